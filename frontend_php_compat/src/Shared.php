<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/**
 * The tables shared with the Python edge (words, limits, key constants), generated from the
 * Python modules into shared/shared.php by tools/php_shared.py; opcache keeps the array compiled.
 */
final class Shared
{
    /** @var array<string, mixed>|null */
    private static ?array $tables = null;

    /** @return array<string, mixed> */
    public static function all(): array
    {
        return self::$tables ??= require dirname(__DIR__) . '/shared/shared.php';
    }

    /** One section of the tables ("messages", "query", "keys", ...). */
    public static function get(string $section): mixed
    {
        return self::all()[$section];
    }

    /** A Python whole-match pattern (no anchors) as a PCRE pattern for preg_match. */
    public static function whole(string $pattern): string
    {
        return '#\A(?:' . $pattern . ')\z#';
    }
}
