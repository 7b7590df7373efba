<?php
declare(strict_types=1);

namespace SnipShop\Compat\Search;

/**
 * A search result (search/query.py Result): the SKUs of one page, the total number of matches
 * and the facets, brand first, then attributes by name.
 */
final class Result
{
    /**
     * @param list<string> $skus
     * @param list<array{name: string, values: list<array{0: string, 1: int, 2: bool}>}> $facets
     *        each value is (value, count, selected)
     */
    public function __construct(public readonly array $skus = [], public readonly int $total = 0, public readonly array $facets = [])
    {
    }

    /**
     * Selected values always, then the best others up to MAX_FACET_VALUES, ordered by count
     * descending, then value (Plan._facets; the Elasticsearch answer reads the same way).
     *
     * @param array<string, int> $counts value to count
     * @param list<string> $selected
     * @return list<array{0: string, 1: int, 2: bool}>
     */
    public static function facetValues(array $counts, array $selected, int $cap): array
    {
        $isSelected = array_fill_keys($selected, true);
        $chosen = [];
        $others = [];
        foreach ($counts as $value => $count) {
            $value = (string) $value;
            if (isset($isSelected[$value])) {
                $chosen[] = [$value, $count];
            } elseif ($count > 0) {
                $others[] = [$value, $count];
            }
        }
        usort($others, [self::class, 'order']);
        $listed = array_merge($chosen, array_slice($others, 0, max($cap - count($chosen), 0)));
        usort($listed, [self::class, 'order']);
        return array_map(static fn ($vc) => [$vc[0], $vc[1], isset($isSelected[$vc[0]])], $listed);
    }

    /** (-count, value) in code point order. */
    public static function order(array $a, array $b): int
    {
        return ($b[1] <=> $a[1]) ?: strcmp($a[0], $b[0]);
    }
}
