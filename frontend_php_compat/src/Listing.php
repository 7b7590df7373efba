<?php
declare(strict_types=1);

namespace SnipShop\Compat;

use SnipShop\Compat\Search\Result;

/**
 * Listing and search pages (web/edge/listing.py): tiles from snippets, the filter navigation
 * from the facet counts, built per request with escaping.
 *
 * @phpstan-type Params array<string, list<string>>
 */
final class Listing
{
    /** @param array<string, string> $t @param array<string, string> $labels stored attribute labels */
    public function __construct(
        private readonly Query $query,
        private readonly Result $result,
        private readonly array $params,
        private readonly array $t,
        private readonly array $labels,
    ) {
    }

    /**
     * A link to the same page with some parameters replaced (null removes); page resets.
     *
     * @param array<string, string>|array<string, list<string>|null> $changes
     */
    public static function href(array $params, array $changes): string
    {
        $merged = [];
        foreach ($params as $k => $v) {
            if ((string) $k !== 'page') {
                $merged[(string) $k] = $v;
            }
        }
        foreach ($changes as $name => $values) {
            if ($values === null) {
                unset($merged[(string) $name]);
            } else {
                $merged[(string) $name] = $values;
            }
        }
        $pairs = [];
        foreach ($merged as $k => $vs) {
            foreach ($vs as $v) {
                $pairs[] = [(string) $k, $v];
            }
        }
        $query = Html::urlencode($pairs);
        return $query !== '' ? "?{$query}" : '?';
    }

    /**
     * One <li> per SKU whose tile is in the store; missing tiles are left out.
     *
     * @param list<?string> $raw
     * @param list<string> $skus
     * @param array<string, string> $labels
     * @return list<string>
     */
    public static function tiles(array $raw, array $skus, array $labels = []): array
    {
        $out = [];
        $width = count(Shared::get('keys')['tile_kinds']);
        $field = Shared::get('keys')['field'];
        foreach ($skus as $i => $sku) {
            [$tile, $price, $offer, $avail] = array_map([Pages::class, 'bodyOf'], array_slice($raw, $i * $width, $width) + [null, null, null, null]);
            if ($tile === null || $tile === '') {
                continue;
            }
            $money = explode($field, ($offer !== null && $offer !== '') ? $offer : ($price ?? ''), 2)[0];
            $badge = explode($field, $avail ?? '', 2)[0];
            $out[] = '<li class="tile" data-sku="' . Html::escape($sku) . '">' . Pages::fillLabels($tile, $labels) . $money . $badge . '</li>';
        }
        return $out;
    }

    private function title(string $name): string
    {
        if ($name === 'brand') {
            return $this->t['brand'];
        }
        return I18n::label($name, $this->query->locale, $this->labels);
    }

    /** @param array{name: string, values: list<array{0: string, 1: int, 2: bool}>} $facet */
    private function facetGroup(array $facet): string
    {
        $name = $facet['name'];
        $selected = $this->params[$name] ?? [];
        $items = [];
        foreach ($facet['values'] as [$value, $count, $isSelected]) {
            $values = $isSelected ? array_values(array_filter($selected, static fn ($x) => $x !== $value)) : [...$selected, $value];
            $mark = $isSelected ? ' class="selected" aria-current="true"' : '';
            $items[] = '<li><a href="' . Html::escape(self::href($this->params, [$name => $values ?: null])) . '"' . $mark . ' '
                . 'data-facet="' . Html::escape($name) . '" data-value="' . Html::escape($value) . '" data-count="' . $count . '">'
                . '<span class="value">' . Html::escape($value) . '</span> <span class="count">' . $count . '</span></a></li>';
        }
        $listing = Shared::get('listing');
        $shown = $items;
        $folded = [];
        if (count($items) >= $listing['facet_visible'] + $listing['fold_at_least']) {
            $shown = array_slice($items, 0, $listing['facet_visible']);
            $folded = array_slice($items, $listing['facet_visible']);
        }
        $more = '';
        if ($folded !== []) {
            $opened = '';
            foreach (array_slice($facet['values'], $listing['facet_visible']) as $v) {
                if ($v[2]) {
                    $opened = ' open';
                }
            }
            $more = '<details class="more"' . $opened . '><summary>'
                . Html::escape(I18n::format($this->t['more_values'], ['n' => count($folded)])) . '</summary>'
                . '<ul>' . implode('', $folded) . '</ul></details>';
        }
        $picked = count(array_filter($facet['values'], static fn ($v) => $v[2]));
        $badge = $picked ? ' <span class="picked">(' . $picked . ')</span>' : '';
        return '<details class="facet" data-facet-name="' . Html::escape($name) . '">'
            . '<summary><h3>' . Html::escape($this->title($name)) . $badge . '</h3></summary>'
            . '<ul>' . implode('', $shown) . '</ul>' . $more . '</details>';
    }

    private function facetNav(): string
    {
        return implode('', array_map([$this, 'facetGroup'], $this->result->facets));
    }

    private function priceLabel(): string
    {
        $q = $this->query;
        $low = $q->priceMin === null ? '' : I18n::money($q->priceMin, $q->currency, $q->locale);
        $high = $q->priceMax === null ? '' : I18n::money($q->priceMax, $q->currency, $q->locale);
        if ($low !== '' && $high !== '') {
            return I18n::format($this->t['price_between'], ['low' => $low, 'high' => $high]);
        }
        return $low !== '' ? I18n::format($this->t['price_from'], ['low' => $low]) : I18n::format($this->t['price_up_to'], ['high' => $high]);
    }

    private function chips(): string
    {
        $q = $this->query;
        $t = $this->t;
        $found = [];
        foreach ($q->filters as $name => $values) {
            $name = (string) $name;
            foreach ($values as $value) {
                $rest = array_values(array_filter($values, static fn ($v) => $v !== $value));
                $found[] = [self::href($this->params, [$name => $rest ?: null]), $this->title($name) . ': ' . $value, $name, $value];
            }
        }
        if ($q->priceMin !== null || $q->priceMax !== null) {
            $found[] = [self::href($this->params, ['price' => null]), $t['price'] . ': ' . $this->priceLabel(), 'price', $this->params['price'][0] ?? ''];
        }
        if ($q->inStock) {
            $found[] = [self::href($this->params, ['in_stock' => null]), $t['in_stock_only'], 'in_stock', '1'];
        }
        if ($found === []) {
            return '';
        }
        $items = '';
        foreach ($found as [$href, $label, $name, $value]) {
            $items .= '<li><a class="chip" href="' . Html::escape($href) . '" data-chip="' . Html::escape($name) . '" data-chip-value="' . Html::escape($value) . '">'
                . '<span class="visually-hidden">' . Html::escape($t['remove_filter']) . ': </span>' . Html::escape($label)
                . '<span class="chip-x" aria-hidden="true">×</span></a></li>';
        }
        $unfiltered = array_fill_keys(array_map('strval', array_keys($q->filters)), null) + ['price' => null, 'in_stock' => null];
        $everything = self::href($this->params, $unfiltered);
        return '<nav class="chips" aria-label="' . Html::escape($t['selected_filters']) . '"><ul>' . $items . '<li>'
            . '<a class="clear-all" href="' . Html::escape($everything) . '">' . Html::escape($t['reset']) . '</a></li></ul></nav>';
    }

    private function sortNav(): string
    {
        $links = '';
        foreach (Shared::get('query')['sorts'] as $s) {
            $links .= '<li><a href="' . Html::escape(self::href($this->params, ['sort' => [$s]])) . '" data-sort="' . $s . '"'
                . ($s === $this->query->sort ? ' aria-current="true"' : '') . '>' . Html::escape($this->t[$s]) . '</a></li>';
        }
        return '<nav class="sort" aria-labelledby="sort-title"><span id="sort-title" class="sort-title">'
            . Html::escape($this->t['sort']) . ':</span><ul>' . $links . '</ul></nav>';
    }

    private function stockFilter(): string
    {
        $q = $this->query;
        $href = self::href($this->params, ['in_stock' => $q->inStock ? null : ['1']]);
        $mark = $q->inStock ? ' class="in-stock selected" aria-current="true"' : ' class="in-stock"';
        return '<p class="stock-filter"><a href="' . Html::escape($href) . '"' . $mark . ' data-in-stock="' . (int) $q->inStock . '">'
            . Html::escape($this->t['in_stock_only']) . '</a></p>';
    }

    private function priceFilter(): string
    {
        $q = $this->query;
        $t = $this->t;
        $hidden = '';
        foreach ($this->params as $k => $vs) {
            if ((string) $k === 'price' || (string) $k === 'page') {
                continue;
            }
            foreach ($vs as $v) {
                $hidden .= '<input type="hidden" name="' . Html::escape((string) $k) . '" value="' . Html::escape($v) . '">';
            }
        }
        $low = $q->priceMin ?? '';
        $high = $q->priceMax ?? '';
        $value = ($low !== '' || $high !== '') ? "{$low}-{$high}" : '';
        return '<details class="facet facet-price" data-facet-name="price"><summary><h3>' . Html::escape($t['price'])
            . '</h3></summary><form class="price-range" method="get">' . $hidden
            . '<label for="price-range">' . Html::escape($t['price_range']) . '</label>'
            . '<span class="hint" id="price-range-hint">' . Html::escape($t['price_range_hint']) . '</span>'
            . '<span class="price-row"><input id="price-range" name="price" value="' . Html::escape($value) . '" '
            . 'pattern="[0-9.]*-[0-9.]*" inputmode="decimal" size="10" autocomplete="off" '
            . 'aria-describedby="price-range-hint"><button type="submit">' . Html::escape($t['apply']) . '</button></span>'
            . '</form></details>';
    }

    private function pager(): string
    {
        $q = $this->query;
        $total = $this->result->total;
        $pages = min(max(1, intdiv($total + $q->perPage - 1, $q->perPage)), Query::lastPage($q->perPage));
        if ($pages === 1) {
            return '';
        }
        $link = function (int $page, string $label, string $rel = '') use ($q): string {
            $merged = $this->params;
            $merged['page'] = [(string) $page];
            $pairs = [];
            foreach ($merged as $k => $vs) {
                foreach ($vs as $v) {
                    $pairs[] = [(string) $k, $v];
                }
            }
            $current = ($page === $q->page && $rel === '') ? ' aria-current="page"' : '';
            $relAttr = $rel !== '' ? ' rel="' . $rel . '"' : '';
            return '<a href="?' . Html::escape(Html::urlencode($pairs)) . '"' . $relAttr . $current . '>' . Html::escape($label) . '</a>';
        };
        $parts = $q->page > 1 ? [$link($q->page - 1, $this->t['previous'], 'prev')] : [];
        $window = Shared::get('listing')['page_window'];
        for ($p = max(1, $q->page - $window); $p <= min($pages, $q->page + $window); $p++) {
            $parts[] = $link($p, (string) $p);
        }
        if ($q->page < $pages) {
            $parts[] = $link($q->page + 1, $this->t['next'], 'next');
        }
        return '<nav class="pager">' . implode('', $parts) . '</nav>';
    }

    private function itemList(): string
    {
        $elements = [];
        foreach ($this->result->skus as $i => $sku) {
            $elements[] = ['@type' => 'ListItem', 'position' => $this->query->offset() + $i + 1, 'url' => "/p/{$sku}",
                'item' => ['@type' => 'Product', 'sku' => $sku]];
        }
        $data = ['@context' => 'https://schema.org', '@type' => 'ItemList', 'numberOfItems' => $this->result->total,
            'itemListElement' => $elements];
        $text = json_encode($data, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_LINE_TERMINATORS | JSON_THROW_ON_ERROR);
        return '<script type="application/ld+json">' . str_replace('<', '\\u003c', $text) . '</script>';
    }

    /** The page under the frame: header, filters, results with count, sort, chips, tiles and pager. */
    public function body(string $header, array $tileHtml): string
    {
        $q = $this->query;
        $t = $this->t;
        if ($q->pastWindow) {
            $limit = I18n::number(Shared::get('query')['max_result_window'], $q->locale);
            $grid = '<p class="refine">' . Html::escape(I18n::format($t['refine'], ['limit' => $limit])) . '</p>';
        } elseif ($tileHtml !== []) {
            $grid = '<ul class="tiles">' . implode('', $tileHtml) . '</ul>';
        } else {
            $grid = '<p class="empty">' . Html::escape($t['no_results']) . '</p>';
        }
        $words = $this->result->total === 1 ? $t['results_one'] : $t['results'];
        $count = Html::escape(I18n::format($words, ['total' => I18n::number($this->result->total, $q->locale)]));
        return $header . '<div class="listing">'
            . '<aside class="filters" aria-label="' . Html::escape($t['filters']) . '">'
            . '<h2 class="filters-title">' . Html::escape($t['filters']) . '</h2>'
            . $this->stockFilter() . '<div class="facets">' . $this->priceFilter()
            . $this->facetNav() . '</div></aside>'
            . '<section class="results" aria-labelledby="result-count"><div class="results-bar">'
            . '<h2 class="result-count" id="result-count" data-total="' . $this->result->total . '">' . $count . '</h2>'
            . $this->sortNav() . '</div>' . $this->chips() . $grid
            . $this->pager() . '</section></div>' . $this->itemList();
    }
}
