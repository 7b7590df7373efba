<?php
declare(strict_types=1);

namespace SnipShop\Compat\Search;

use SnipShop\Compat\KeyScheme;
use SnipShop\Compat\Query;
use SnipShop\Compat\Shared;

/**
 * A query as KEYS and ARGV of the embedded query script, and the script's reply as a Result
 * (search/embedded_query.py plan and Plan.result; docs/search-sharing.md).
 */
final class EmbeddedPlan
{
    /** @var array<string, int> key to its 1-based position in KEYS */
    private array $refs = [];
    /** @var list<string> */
    public array $keys = [];
    /** @var array<string, mixed> */
    public array $spec = [];
    /** @var list<array{0: string, 1: list<string>}> */
    public array $facets = [];

    /**
     * @param array<string, array<string, true>> $registry facet name to its values
     * @param list<list<string>> $stems per query term, the stems to look up
     */
    public function __construct(
        public readonly Query $query,
        array $registry,
        array $stems,
        bool $withVariants,
        private readonly KeyScheme $k,
        private readonly int $gen,
        string $nonce,
    ) {
        $q = $query;
        $spec = ['visible' => $this->ref($k->searchVisible($gen)), 'base' => [], 'offset' => $q->offset(), 'count' => $q->perPage];
        if ($q->category !== null) {
            $spec['base'][] = $this->ref($k->searchCategory($gen, $q->category));
        }
        if ($q->inStock) {
            $spec['stock'] = $this->ref($k->searchInStock($gen));
        }
        $spec['terms'] = [];
        foreach ($stems as $list) {
            $any = [];
            $names = [];
            foreach ($list as $s) {
                $any[] = $this->ref($k->searchTerm($gen, $q->locale, true, $s));
                $any[] = $this->ref($k->searchTerm($gen, $q->locale, false, $s));
            }
            foreach ($list as $s) {
                $names[] = $this->ref($k->searchTerm($gen, $q->locale, true, $s));
            }
            $spec['terms'][] = [$any, $names];
        }
        $price = self::priceRange($q);
        if ($price !== null) {
            $spec['price'] = [$this->ref($k->searchPrice($gen, $q->currency)), ...$price];
        }
        $names = array_keys($registry + $q->filters);
        $names = array_values(array_filter(array_map('strval', $names), static fn ($n) => $n !== 'brand'));
        sort($names, SORT_STRING);
        array_unshift($names, 'brand');
        foreach ($names as $n) {
            $values = array_keys(($registry[$n] ?? []) + array_fill_keys($q->filters[$n] ?? [], true));
            $values = array_map('strval', $values);
            sort($values, SORT_STRING);
            $this->facets[] = [$n, $values];
        }
        $spec['facets'] = [];
        foreach ($this->facets as [$n, $values]) {
            $spec['facets'][] = array_map(fn ($v) => $this->ref($k->searchFacetValue($gen, $n, $v)), $values);
        }
        $spec['bitmaps'] = [];
        foreach ($this->facets as [$n, $values]) {
            $spec['bitmaps'][] = array_map(fn ($v) => $this->ref($k->searchFacetBitmap($gen, $n, $v)), $values);
        }
        $spec['ids'] = $this->ref($k->searchIds($gen));
        $spec['idseq'] = $this->ref($k->searchIdSeq($gen));
        $spec['filters'] = [];
        foreach ($this->facets as $i => [$n, $_]) {
            if (!empty($q->filters[$n])) {
                $spec['filters'][] = [$i + 1, array_map(fn ($v) => $this->ref($k->searchFacetValue($gen, $n, $v)), $q->filters[$n])];
            }
        }
        $this->sort($spec);
        if ($withVariants && self::variantLevel($q)) {
            $spec['v'] = $this->variantSpec($price);
        }
        $spec['tmp'] = count($this->refs) + 1;
        $this->spec = $spec;
        $this->keys = array_keys($this->refs);
        $this->keys = array_map('strval', $this->keys);
        $temporaries = self::temporaries($spec);
        for ($n = 0; $n < $temporaries; $n++) {
            $this->keys[] = $k->searchTemp($gen, $nonce, $n);
        }
    }

    private function ref(string $key): int
    {
        return $this->refs[$key] ??= count($this->refs) + 1;
    }

    public function argv(): string
    {
        return json_encode($this->spec, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
    }

    /** Does the query hold a condition one variant must pass? */
    public static function variantLevel(Query $q): bool
    {
        foreach ($q->filters as $name => $values) {
            if ($name !== 'brand' && $values !== []) {
                return true;
            }
        }
        return $q->inStock || $q->priceMin !== null || $q->priceMax !== null;
    }

    /** Prices as sorted-set scores, as Python's repr(float(amount)) writes them. */
    public static function priceScore(string $amount): string
    {
        return var_export((float) $amount, true);
    }

    /** @return array{0: string, 1: string}|null */
    private static function priceRange(Query $q): ?array
    {
        if ($q->priceMin === null && $q->priceMax === null) {
            return null;
        }
        return [
            $q->priceMin !== null ? self::priceScore($q->priceMin) : '-inf',
            $q->priceMax !== null ? self::priceScore($q->priceMax) : '+inf',
        ];
    }

    /** @param array{0: string, 1: string}|null $price */
    private function variantSpec(?array $price): array
    {
        $q = $this->query;
        $k = $this->k;
        $gen = $this->gen;
        $v = ['multi' => $this->ref($k->searchWithVariants($gen)), 'all' => $this->ref($k->searchVariants($gen))];
        if ($q->inStock) {
            $v['stock'] = $this->ref($k->searchVariantInStock($gen));
        }
        if ($price !== null) {
            $v['price'] = [$this->ref($k->searchVariantPrice($gen, $q->currency)), ...$price];
        }
        $v['filters'] = [];
        foreach ($this->facets as $i => [$n, $_]) {
            if ($n !== 'brand' && !empty($q->filters[$n])) {
                $v['filters'][] = [$i + 1, array_map(fn ($value) => $this->ref($k->searchVariantFacet($gen, $n, $value)), $q->filters[$n])];
            }
        }
        $v['facets'] = [];
        foreach ($this->facets as [$n, $values]) {
            $v['facets'][] = $n === 'brand' ? [] : array_map(fn ($value) => $this->ref($k->searchVariantFacet($gen, $n, $value)), $values);
        }
        if ($q->inStock) {
            $v['sold_out'] = [];
            foreach ($this->facets as [$n, $values]) {
                $v['sold_out'][] = array_map(fn ($value) => $this->ref($k->searchSoldOutValue($gen, $n, $value)), $values);
            }
            $v['sold_out_bitmaps'] = [];
            foreach ($this->facets as [$n, $values]) {
                $v['sold_out_bitmaps'][] = array_map(fn ($value) => $this->ref($k->searchSoldOutBitmap($gen, $n, $value)), $values);
            }
        }
        if ($q->sort === 'price_asc' || $q->sort === 'price_desc') {
            $v['sort'] = $this->ref($k->searchVariantPrice($gen, $q->currency));
            if ($q->inStock) {
                $v['stock_sort'] = $this->ref($k->searchStockPrice($gen, $q->currency));
            }
        }
        return $v;
    }

    /** An upper bound of the temporary keys the script may create (embedded_query._temporaries). */
    private static function temporaries(array $spec): int
    {
        $constraints = array_map(static fn ($k) => [$k], $spec['base']);
        foreach ($spec['terms'] as [$keys, $_]) {
            $constraints[] = $keys;
        }
        foreach ($spec['filters'] as [$_, $values]) {
            $constraints[] = $values;
        }
        if (isset($spec['stock'])) {
            $constraints[] = [$spec['stock']];
        }
        $perChain = 1;
        foreach ($constraints as $keys) {
            $perChain += count($keys) + 1;
        }
        $relevance = 1;
        foreach ($spec['terms'] as [$_, $names]) {
            $relevance += count($names) + 1;
        }
        $bitmaps = count($spec['filters']) + 2;
        if (!isset($spec['v'])) {
            return $perChain * (count($spec['filters']) + 1) + $relevance + $bitmaps + 2;
        }
        $variantChain = 4;
        foreach ($spec['v']['filters'] as [$_, $keys]) {
            $variantChain += count($keys) + 1;
        }
        $perMatch = 2 * $perChain + 2 + $variantChain;
        return $perMatch * (count($spec['filters']) + 1) + $relevance + 2 * $bitmaps + 4;
    }

    private function sort(array &$spec): void
    {
        $q = $this->query;
        $sort = $q->sort;
        if ($sort === 'relevance') {
            if ($spec['terms'] !== []) {
                return;
            }
            $sort = 'newest';
        }
        [$zset, $weight, $missing] = Shared::get('embedded')['sorts'][$sort];
        $key = match ($zset) {
            'price' => $this->k->searchPrice($this->gen, $q->currency),
            'name' => $this->k->searchNameRank($this->gen, $q->locale),
            'created' => $this->k->searchCreated($this->gen),
        };
        $spec['sort'] = [$this->ref($key), $weight];
        if ($missing) {
            $spec['missing'] = true;
        }
        if ($sort === 'name') {
            $spec['names'] = $this->ref($this->k->searchNames($this->gen, $q->locale));
        }
    }

    /** The script's reply {total, window, values, first, sign, tail, counts} as a Result. */
    public function result(array $reply): Result
    {
        [$total, $window, $values, $first, $sign, $tail, $counts] = array_pad($reply, 7, null);
        $window = array_map('strval', (array) $window);
        $values = (array) $values;
        $rows = [];
        foreach ($window as $i => $sku) {
            $value = $values[$i] ?? '';
            $key = isset($this->spec['names']) ? TextAnalysis::fold((string) $value) : (int) $sign * self::score((string) $value);
            $rows[] = [$key, $sku];
        }
        usort($rows, static function (array $a, array $b): int {
            $byKey = is_string($a[0]) ? strcmp($a[0], $b[0]) : ($a[0] <=> $b[0]);
            return $byKey ?: strcmp($a[1], $b[1]);
        });
        $ordered = array_column($rows, 1);
        $start = $this->query->offset() - (int) $first;
        $page = array_slice($ordered, max($start, 0), $this->query->perPage);
        if ($start < 0) {
            $page = array_slice($ordered, count($ordered) + $start, $this->query->perPage);
        }
        $room = $this->query->perPage - count($page);
        foreach (array_slice(array_map('strval', (array) $tail), 0, max($room, 0)) as $sku) {
            $page[] = $sku;
        }
        return new Result($page, (int) $total, $this->facetsOf((array) $counts));
    }

    /** A score as Redis writes it ("inf", "-inf", "12.5") as a float, like Python's float(). */
    public static function score(string $text): float
    {
        $lower = strtolower(trim($text));
        return match ($lower) {
            'inf', '+inf', 'infinity', '+infinity' => INF,
            '-inf', '-infinity' => -INF,
            default => (float) $text,
        };
    }

    /** @param list<list<int>> $counts */
    private function facetsOf(array $counts): array
    {
        $cap = Shared::get('query')['max_facet_values'];
        $out = [];
        foreach ($this->facets as $i => [$name, $values]) {
            if (!isset($counts[$i])) {
                break;
            }
            $numbers = (array) $counts[$i];
            $byValue = [];
            foreach ($values as $j => $value) {
                if (!array_key_exists($j, $numbers)) {
                    break;
                }
                $byValue[$value] = (int) $numbers[$j];
            }
            $listed = Result::facetValues($byValue, $this->query->filters[$name] ?? [], $cap);
            if ($listed !== []) {
                $out[] = ['name' => $name, 'values' => $listed];
            }
        }
        return $out;
    }
}
