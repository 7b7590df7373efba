<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/**
 * One request as the edge's Werkzeug sees it: the path, the query parameters (parse_qsl: "&"
 * separated, "+" as space, invalid UTF-8 left percent-encoded, names as sent) and the cookies
 * (no URL decoding, quoted values unslashed). PHP's $_GET and $_COOKIE rename and decode
 * parameters (a dot becomes "_"), so neither is used.
 */
final class Request
{
    /** @var array<string, list<string>>|null */
    private ?array $args = null;
    /** @var array<string, string>|null */
    private ?array $cookies = null;

    public function __construct(
        public readonly string $method,
        public readonly string $path,
        public readonly string $queryString = '',
        public readonly string $cookieHeader = '',
        public readonly ?string $ifNoneMatch = null,
        public readonly ?string $ifMatch = null,
        public readonly string $host = 'localhost',
        public readonly string $rawPath = '/',
        /** The client's X-Request-Id as sent (Trace::requestId decides whether to keep it). */
        public readonly ?string $requestId = null,
    ) {
    }

    /** The same request with another Cookie header (the canary's bucket taken out, ShopperBuckets). */
    public function withCookieHeader(string $cookieHeader): self
    {
        return new self($this->method, $this->path, $this->queryString, $cookieHeader, $this->ifNoneMatch,
            $this->ifMatch, $this->host, $this->rawPath, $this->requestId);
    }

    /** @param array<string, mixed> $server */
    public static function fromServer(array $server): self
    {
        $uri = (string) ($server['REQUEST_URI'] ?? '/');
        // Werkzeug's path: percent-decoded, its leading slashes as one.
        $raw = '/' . ltrim(explode('?', $uri, 2)[0], '/');
        $path = rawurldecode($raw);
        return new self(
            strtoupper((string) ($server['REQUEST_METHOD'] ?? 'GET')),
            $path === '' ? '/' : $path,
            (string) ($server['QUERY_STRING'] ?? ''),
            self::header($server, 'HTTP_COOKIE') ?? '',
            self::header($server, 'HTTP_IF_NONE_MATCH'),
            self::header($server, 'HTTP_IF_MATCH'),
            (string) ($server['HTTP_HOST'] ?? ($server['SERVER_NAME'] ?? 'localhost')),
            $raw,
            isset($server['HTTP_X_REQUEST_ID']) ? (string) $server['HTTP_X_REQUEST_ID'] : null,
        );
    }

    /**
     * A request header's value, or null. A value with bytes beyond visible ASCII (a Latin-1 or
     * UTF-8 cookie value) is treated as absent, as the edge's HTTP server drops such headers
     * before the application sees them.
     */
    private static function header(array $server, string $name): ?string
    {
        if (!isset($server[$name])) {
            return null;
        }
        $value = (string) $server[$name];
        return preg_match('/[^\x20-\x7E\t]/', $value) === 1 ? null : $value;
    }

    /** @return array<string, list<string>> every parameter name with its values, in order */
    public function args(): array
    {
        return $this->args ??= self::parseQuery($this->queryString);
    }

    /** The first value of a parameter, or null. */
    public function arg(string $name): ?string
    {
        return $this->args()[$name][0] ?? null;
    }

    public function cookie(string $name): ?string
    {
        $this->cookies ??= self::parseCookies($this->cookieHeader);
        return $this->cookies[$name] ?? null;
    }

    /** @return array<string, string> the first value of each cookie */
    public function cookies(): array
    {
        return $this->cookies ??= self::parseCookies($this->cookieHeader);
    }

    /** @return array<string, list<string>> */
    public static function parseQuery(string $query): array
    {
        $out = [];
        foreach (explode('&', $query) as $field) {
            if ($field === '') {
                continue;
            }
            $pair = explode('=', $field, 2);
            $name = self::unquote(str_replace('+', ' ', $pair[0]));
            $value = self::unquote(str_replace('+', ' ', $pair[1] ?? ''));
            $out[$name][] = $value;
        }
        return $out;
    }

    /** urllib.parse.unquote with Werkzeug's error handler: bytes that are not UTF-8 stay %XX. */
    public static function unquote(string $text): string
    {
        if (!str_contains($text, '%')) {
            return self::requote($text);
        }
        $bytes = preg_replace_callback('/%([0-9A-Fa-f]{2})/', static fn ($m) => chr((int) hexdec($m[1])), $text);
        return self::requote((string) $bytes);
    }

    /** Valid UTF-8 kept, every other byte as %XX (uppercase). */
    private static function requote(string $bytes): string
    {
        if (preg_match('//u', $bytes) === 1) {
            return $bytes;
        }
        $out = '';
        $offset = 0;
        $length = strlen($bytes);
        while ($offset < $length) {
            if (preg_match('/\G(?:[\x00-\x7F]|[\xC2-\xDF][\x80-\xBF]|\xE0[\xA0-\xBF][\x80-\xBF]|[\xE1-\xEC\xEE\xEF][\x80-\xBF]{2}'
                . '|\xED[\x80-\x9F][\x80-\xBF]|\xF0[\x90-\xBF][\x80-\xBF]{2}|[\xF1-\xF3][\x80-\xBF]{3}|\xF4[\x80-\x8F][\x80-\xBF]{2})/',
                $bytes, $m, 0, $offset) === 1) {
                $out .= $m[0];
                $offset += strlen($m[0]);
            } else {
                $out .= sprintf('%%%02X', ord($bytes[$offset]));
                $offset++;
            }
        }
        return $out;
    }

    /** bytes.decode(errors="replace"): each invalid sequence as U+FFFD. */
    public static function replaceInvalid(string $bytes): string
    {
        if (preg_match('//u', $bytes) === 1) {
            return $bytes;
        }
        $previous = mb_substitute_character();
        mb_substitute_character(0xFFFD);
        $text = mb_convert_encoding($bytes, 'UTF-8', 'UTF-8');
        mb_substitute_character($previous);
        return $text;
    }

    /**
     * Werkzeug's parse_cookie, first value of each name. The header's bytes are read as Latin-1,
     * as WSGI hands them over (a UTF-8 "ö" is two characters there); a quoted value is unslashed
     * as bytes, then read as UTF-8.
     *
     * @return array<string, string>
     */
    public static function parseCookies(string $header): array
    {
        if ($header === '') {
            return [];
        }
        $header = mb_convert_encoding($header, 'UTF-8', 'ISO-8859-1');
        $out = [];
        preg_match_all('/([^=;]*)(?:[ \t\n\r\f\v]*=[ \t\n\r\f\v]*("(?:[^\\\\"]|\\\\.)*"|.*?))?[ \t\n\r\f\v]*;[ \t\n\r\f\v]*/s',
            $header . ';', $matches, PREG_SET_ORDER);
        foreach ($matches as $m) {
            $name = trim($m[1], " \t\n\r\f\v");
            $value = trim($m[2] ?? '', " \t\n\r\f\v");
            if ($name === '') {
                continue;
            }
            if (strlen($value) >= 2 && $value[0] === '"' && $value[-1] === '"') {
                $value = (string) preg_replace_callback('/\\\\([0-3][0-7]{2}|.)/s', static fn ($u) =>
                    strlen($u[1]) === 1 ? $u[1] : chr((int) octdec($u[1])), substr($value, 1, -1));
            }
            $value = self::replaceInvalid($value);
            $out[$name] ??= $value;
        }
        return $out;
    }
}
