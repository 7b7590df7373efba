<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/** Escaping and URL encoding exactly as the edge does them (markupsafe, urllib.parse). */
final class Html
{
    private const ESCAPES = ['&' => '&amp;', '<' => '&lt;', '>' => '&gt;', '"' => '&#34;', "'" => '&#39;'];

    /** markupsafe.escape: & < > " ' as &amp; &lt; &gt; &#34; &#39;. */
    public static function escape(string $text): string
    {
        return strtr($text, self::ESCAPES);
    }

    /** urllib.parse.quote_plus (safe: letters, digits, "_.-~"; space as "+"). */
    public static function quotePlus(string $text): string
    {
        return str_replace('%7E', '~', urlencode($text));
    }

    /**
     * urllib.parse.urlencode of (name, value) pairs.
     *
     * @param list<array{0: string, 1: string}> $pairs
     */
    public static function urlencode(array $pairs): string
    {
        $out = [];
        foreach ($pairs as [$name, $value]) {
            $out[] = self::quotePlus($name) . '=' . self::quotePlus($value);
        }
        return implode('&', $out);
    }

    /** Python's str.strip(): Unicode white space (and the separators \x1c-\x1f) at both ends. */
    public static function strip(string $text): string
    {
        return preg_replace('/^[\s\x{1c}-\x{1f}\x{85}\p{Z}]+|[\s\x{1c}-\x{1f}\x{85}\p{Z}]+$/u', '', $text) ?? $text;
    }

    /** Python's str.split() with no argument: words between runs of Unicode white space. */
    /** @return list<string> */
    public static function splitWhite(string $text): array
    {
        $parts = preg_split('/[\s\x{1c}-\x{1f}\x{85}\p{Z}]+/u', $text, -1, PREG_SPLIT_NO_EMPTY);
        return $parts === false ? [] : $parts;
    }
}
