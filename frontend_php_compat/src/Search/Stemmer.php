<?php
declare(strict_types=1);

namespace SnipShop\Compat\Search;

use SnipShop\Compat\Snowball\BaseStemmer;

/**
 * The Snowball stemmers of the embedded index, the same generated algorithms the Python side
 * runs: src/Snowball/ holds them translated from the installed snowballstemmer by
 * tools/snowball_php.py (Debian's C library libstemmer is an older Snowball release whose English
 * and German stemmers differ on some words, so it is not used).
 */
final class Stemmer
{
    /** @var array<string, BaseStemmer> one per algorithm and process */
    private static array $stemmers = [];

    public static function for(string $algorithm): BaseStemmer
    {
        if (!isset(self::$stemmers[$algorithm])) {
            $class = 'SnipShop\\Compat\\Snowball\\' . str_replace(' ', '', ucwords(str_replace('_', ' ', $algorithm))) . 'Stemmer';
            if (!preg_match('/\A[a-z_]+\z/', $algorithm) || !class_exists($class)) {
                throw new \InvalidArgumentException("no Snowball stemmer for {$algorithm}");
            }
            self::$stemmers[$algorithm] = new $class();
        }
        return self::$stemmers[$algorithm];
    }

    /**
     * @param list<string> $words
     * @return list<string>
     */
    public static function stemAll(string $algorithm, array $words): array
    {
        $stemmer = self::for($algorithm);
        return array_map(static fn (string $w): string => $stemmer->stemWord($w), $words);
    }
}
