<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/** Shopper parameters to a Query, bad values ignored or clamped (search/query.py parse). */
final class QueryParser
{
    /**
     * @param array<string, list<string>> $args
     * @param array<string, true> $facetNames the facets the index knows (brand and attribute codes)
     */
    public static function parse(array $args, string $locale, string $currency, array $facetNames, ?string $category = null): Query
    {
        $limits = Shared::get('query');
        $first = static fn (string $name): ?string => $args[$name][0] ?? null;
        [$priceMin, $priceMax] = self::priceRange($first('price'));
        $sort = $first('sort');
        $perPage = self::int($first('per_page'), $limits['default_per_page'], 1, $limits['max_per_page']);
        $page = self::int($first('page'), 1, 1, $limits['max_result_window']);
        $last = Query::lastPage($perPage);
        return new Query(
            $locale,
            $currency,
            self::searchText($first('q')),
            $category,
            self::filters($args, $facetNames),
            $priceMin,
            $priceMax,
            in_array($first('in_stock'), ['1', 'true', 'on', 'yes'], true),
            ($sort !== null && in_array($sort, $limits['sorts'], true)) ? $sort : 'relevance',
            min($page, $last),
            $perPage,
            $page > $last,
        );
    }

    /** Python's int(): optional blanks and sign, digits (underscores between them); else the default. */
    public static function int(?string $value, int $default, int $low, int $high): int
    {
        if ($value === null) {
            return $default;
        }
        $text = Html::strip($value);
        if (preg_match('/\A[+-]?\d+(?:_\d+)*\z/u', $text) !== 1) {
            return $default;
        }
        $text = str_replace('_', '', $text);
        $digits = self::asciiDigits(ltrim($text, '+-'));
        $negative = str_starts_with($text, '-');
        $digits = ltrim($digits, '0');
        if ($digits === '') {
            $number = 0;
        } elseif (strlen($digits) > 18) {
            $number = $negative ? PHP_INT_MIN : PHP_INT_MAX;
        } else {
            $number = $negative ? -(int) $digits : (int) $digits;
        }
        return min(max($number, $low), $high);
    }

    /** Unicode decimal digits as ASCII ones (Python's int() reads them all). */
    private static function asciiDigits(string $digits): string
    {
        if (preg_match('/\A[0-9]*\z/', $digits) === 1) {
            return $digits;
        }
        $out = '';
        foreach (mb_str_split($digits) as $char) {
            $out .= (string) \IntlChar::charDigitValue($char);
        }
        return $out;
    }

    /** @return array{0: ?string, 1: ?string} ``MIN-MAX``, ``MIN-`` or ``-MAX`` by the money rule */
    public static function priceRange(?string $value): array
    {
        if ($value === null || $value === '' || !str_contains($value, '-')) {
            return [null, null];
        }
        [$low, $high] = explode('-', $value, 2);
        $lo = $low !== '' ? self::amount($low) : null;
        $hi = $high !== '' ? self::amount($high) : null;
        if ($lo !== null && $hi !== null && (float) $lo > (float) $hi) {
            [$lo, $hi] = [$hi, $lo];
        }
        return [$lo, $hi];
    }

    /** vocab.money.parse_amount, as the text str(Decimal) gives (leading zeros dropped). */
    public static function amount(string $text): ?string
    {
        $text = Html::strip($text);
        if (preg_match(Shared::whole(Shared::get('query')['money_pattern']), $text) !== 1) {
            return null;
        }
        [$whole, $fraction] = array_pad(explode('.', $text, 2), 2, null);
        $whole = ltrim($whole, '0');
        return ($whole === '' ? '0' : $whole) . ($fraction !== null ? '.' . $fraction : '');
    }

    /** The text as typed, cut after MAX_WORDS words and MAX_TEXT characters. */
    public static function searchText(?string $value): string
    {
        $limits = Shared::get('query');
        $text = mb_substr(Html::strip($value ?? ''), 0, $limits['max_text']);
        if (preg_match_all('/\w+/u', $text, $m, PREG_OFFSET_CAPTURE) > $limits['max_words']) {
            [$word, $offset] = $m[0][$limits['max_words'] - 1];
            return substr($text, 0, $offset + strlen($word));
        }
        return $text;
    }

    /**
     * @param array<string, list<string>> $args
     * @param array<string, true> $facetNames
     * @return array<string, list<string>>
     */
    public static function filters(array $args, array $facetNames): array
    {
        $limits = Shared::get('query');
        $reserved = array_fill_keys($limits['reserved'], true);
        $names = [];
        foreach (array_keys($args) as $name) {
            $name = (string) $name;
            if (isset($facetNames[$name]) && !isset($reserved[$name])) {
                $names[] = $name;
            }
        }
        sort($names, SORT_STRING);
        $filters = [];
        $room = $limits['max_selected_values'];
        foreach ($names as $name) {
            if (count($filters) === $limits['max_filtered_facets'] || $room === 0) {
                break;
            }
            $chosen = [];
            foreach ($args[$name] as $v) {
                if ($v === '' || mb_strlen($v) > $limits['max_value_length']) {
                    continue;
                }
                $v = Html::strip($v);
                if ($v !== '' && !in_array($v, $chosen, true)) {
                    $chosen[] = $v;
                }
            }
            $chosen = array_slice($chosen, 0, $room);
            if ($chosen !== []) {
                $filters[$name] = $chosen;
                $room -= count($chosen);
            }
        }
        return $filters;
    }
}
