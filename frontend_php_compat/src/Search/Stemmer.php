<?php
declare(strict_types=1);

namespace SnipShop\Compat\Search;

/**
 * A Snowball stemmer of the C library libstemmer (Debian libstemmer0d), called through FFI: the
 * same algorithms as Python's snowballstemmer (PHPUnit checks the stems on a vocabulary).
 * FFI must be enabled (ffi.enable=1; the CLI's default "preload" allows it in the CLI only).
 */
final class Stemmer
{
    public const LIBRARY = 'libstemmer.so.0d';
    private const HEADER = <<<'C'
        struct sb_stemmer;
        struct sb_stemmer * sb_stemmer_new(const char * algorithm, const char * charenc);
        void sb_stemmer_delete(struct sb_stemmer * stemmer);
        const unsigned char * sb_stemmer_stem(struct sb_stemmer * stemmer, const char * word, int size);
        int sb_stemmer_length(struct sb_stemmer * stemmer);
        C;

    private static ?\FFI $ffi = null;
    /** @var array<string, self> */
    private static array $stemmers = [];

    private function __construct(private readonly \FFI $lib, private readonly mixed $handle)
    {
    }

    public static function for(string $algorithm): self
    {
        if (!isset(self::$stemmers[$algorithm])) {
            self::$ffi ??= \FFI::cdef(self::HEADER, self::LIBRARY);
            $handle = self::$ffi->sb_stemmer_new($algorithm, 'UTF_8');
            if ($handle === null) {
                throw new \RuntimeException("no Snowball stemmer for {$algorithm}");
            }
            self::$stemmers[$algorithm] = new self(self::$ffi, $handle);
        }
        return self::$stemmers[$algorithm];
    }

    /** Is FFI usable here (ffi.enable, the library present)? */
    public static function available(): bool
    {
        try {
            self::for('english');
            return true;
        } catch (\Throwable) {
            return false;
        }
    }

    /**
     * The stems of ``$words`` with ``$algorithm``: in-process through FFI where it is enabled,
     * else through bin/stem.php in a PHP started with ffi.enable=1 (one process per call; only
     * `php -S` with Debian's default ffi.enable=preload needs that).
     *
     * @param list<string> $words
     * @return list<string>
     */
    public static function stemAll(string $algorithm, array $words): array
    {
        if ($words === []) {
            return [];
        }
        if (self::$ffiUsable ??= self::ffiUsable()) {
            $stemmer = self::for($algorithm);
            return array_map(static fn (string $w): string => $stemmer->stem($w), $words);
        }
        $command = [PHP_BINARY, '-d', 'ffi.enable=1', dirname(__DIR__, 2) . '/bin/stem.php', $algorithm];
        $process = proc_open($command, [0 => ['pipe', 'r'], 1 => ['pipe', 'w']], $pipes);
        if (!is_resource($process)) {
            throw new \RuntimeException('could not start the stemmer process');
        }
        fwrite($pipes[0], implode("\n", $words) . "\n");
        fclose($pipes[0]);
        $out = stream_get_contents($pipes[1]);
        fclose($pipes[1]);
        proc_close($process);
        $stems = explode("\n", rtrim((string) $out, "\n"));
        if (count($stems) !== count($words)) {
            throw new \RuntimeException('the stemmer process failed');
        }
        return $stems;
    }

    private static ?bool $ffiUsable = null;

    private static function ffiUsable(): bool
    {
        $setting = (string) ini_get('ffi.enable');
        return extension_loaded('ffi') && ($setting === '1' || strtolower($setting) === 'on' || strtolower($setting) === 'true'
            || ($setting === 'preload' && PHP_SAPI === 'cli'));
    }

    public function stem(string $word): string
    {
        $out = $this->lib->sb_stemmer_stem($this->handle, $word, strlen($word));
        if ($out === null) {
            return $word;
        }
        $length = $this->lib->sb_stemmer_length($this->handle);
        return \FFI::string($out, $length);
    }

    public function __destruct()
    {
        // Stemmers live as long as the process (one per algorithm): nothing to free per request.
    }
}
