<?php
declare(strict_types=1);

namespace SnipShop\Compat\Search;

use SnipShop\Compat\Shared;

/**
 * Text analysis of the embedded index (search/embedded_text.py, docs/search-sharing.md): fold
 * (case folding, NFKD, combining marks dropped), words (\w runs, CJK characters one by one),
 * Snowball stems per locale language (the generated algorithms of src/Snowball: Stemmer).
 */
final class TextAnalysis
{
    /** casefold, NFKD, combining marks dropped (search.documents.fold). */
    public static function fold(string $text): string
    {
        $folded = mb_convert_case($text, MB_CASE_FOLD, 'UTF-8');
        if (preg_match('/[^\x00-\x7F]/', $folded) !== 1) {
            return $folded;
        }
        $nfkd = \Normalizer::normalize($folded, \Normalizer::FORM_KD);
        if ($nfkd === false) {
            return $folded;
        }
        $out = '';
        foreach (mb_str_split($nfkd) as $char) {
            if (strlen($char) === 1 || \IntlChar::getCombiningClass($char) === 0) {
                $out .= $char;
            }
        }
        return $out;
    }

    /** @return list<string> folded words; every CJK character a word of its own */
    public static function wordsOf(string $text): array
    {
        $shared = Shared::get('text');
        $cjk = $shared['cjk'];
        $max = $shared['max_word'];
        $out = [];
        preg_match_all('/\w+/u', self::fold($text), $m);
        foreach ($m[0] as $word) {
            preg_match_all('/[' . $cjk . ']|[^' . $cjk . ']+/u', $word, $parts);
            foreach ($parts[0] as $part) {
                $out[] = mb_substr($part, 0, $max);
            }
        }
        return $out;
    }

    /** The Snowball algorithm of a locale (``de_DE`` → german), or null. */
    public static function stemmerFor(string $locale): ?string
    {
        $language = strtolower(explode('-', explode('_', $locale)[0])[0]);
        return Shared::get('text')['snowball'][$language] ?? null;
    }

    /** Is ``$word`` one the stemmer takes (at least 3 characters, letters only)? */
    private static function stemmable(string $word): bool
    {
        return mb_strlen($word) >= 3 && preg_match('/\A\p{L}+\z/u', $word) === 1;
    }

    public static function stem(string $word, ?string $algorithm): string
    {
        return self::stems([$word], $algorithm)[0];
    }

    /**
     * @param list<string> $words
     * @return list<string> each word's stem (the word itself where it is not stemmed)
     */
    public static function stems(array $words, ?string $algorithm): array
    {
        $out = $words;
        if ($algorithm === null) {
            return $out;
        }
        $todo = array_values(array_filter($words, [self::class, 'stemmable']));
        $stems = array_combine($todo, Stemmer::stemAll($algorithm, $todo)) ?: [];
        foreach ($words as $i => $word) {
            $stem = $stems[$word] ?? '';
            $out[$i] = $stem !== '' ? (string) $stem : $word;
        }
        return $out;
    }

    /** @return list<array{0: string, 1: string}> distinct (surface, stem) terms in order of first occurrence */
    public static function terms(string $text, string $locale): array
    {
        $words = array_values(array_unique(self::wordsOf($text)));
        $stems = self::stems($words, self::stemmerFor($locale));
        return array_map(null, $words, $stems) ?: [];
    }

    /** @return list<string> the distinct words of a suggestion's text, folded and cut */
    public static function typedWords(string $text): array
    {
        $max = Shared::get('text')['suggest_word'];
        $out = [];
        foreach (self::wordsOf($text) as $word) {
            $out[mb_substr($word, 0, $max)] = true;
        }
        return array_map('strval', array_keys($out));
    }

    /** @param list<string> $typed is every typed word the start of some word of the name? */
    public static function startsWords(array $typed, string $name): bool
    {
        if ($typed === []) {
            return false;
        }
        $nameWords = self::wordsOf($name);
        foreach ($typed as $t) {
            $found = false;
            foreach ($nameWords as $w) {
                if (str_starts_with($w, $t)) {
                    $found = true;
                    break;
                }
            }
            if (!$found) {
                return false;
            }
        }
        return true;
    }
}
