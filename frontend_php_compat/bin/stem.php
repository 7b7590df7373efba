<?php
// Stems words with libstemmer for a PHP whose FFI is restricted (php -S with Debian's default
// ffi.enable=preload): `php -d ffi.enable=1 bin/stem.php ALGORITHM`, one word a line on stdin,
// one stem a line on stdout. Stemmer::stemAll runs it when FFI cannot be used in-process.
declare(strict_types=1);

require dirname(__DIR__) . '/src/autoload.php';

$stemmer = SnipShop\Compat\Search\Stemmer::for($argv[1] ?? 'english');
while (($line = fgets(STDIN)) !== false) {
    echo $stemmer->stem(rtrim($line, "\n")), "\n";
}
