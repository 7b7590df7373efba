<?php
declare(strict_types=1);

namespace SnipShop\Compat\Search;

use SnipShop\Compat\Query;
use SnipShop\Compat\Shared;

/**
 * The params of the stored search templates (search/elastic_params.py): a parsed query as a
 * flat object; absent parts left out, prices in cents, the sort a flag.
 */
final class ElasticParams
{
    /** @return array<string, mixed> params of the listing template */
    public static function listing(Query $q): array
    {
        $params = ['locale' => $q->locale, 'currency' => $q->currency];
        if ($q->text !== '') {
            $params['text'] = $q->text;
        }
        if ($q->category !== null && $q->category !== '') {
            $params['category'] = $q->category;
        }
        if (!empty($q->filters['brand'])) {
            $params['brand'] = ['values' => $q->filters['brand']];
        }
        $attributes = self::attributeSelections($q);
        if ($attributes !== []) {
            $params['attributes'] = $attributes;
        }
        $price = [];
        if ($q->priceMin !== null) {
            $price['gte'] = self::cents($q->priceMin, true);
        }
        if ($q->priceMax !== null) {
            $price['lte'] = self::cents($q->priceMax, false);
        }
        if ($price !== []) {
            $params['price'] = $price;
        }
        if ($q->inStock) {
            $params['in_stock'] = true;
        }
        if ($attributes !== [] || $price !== [] || $q->inStock) {
            $params['variant_filter'] = true;
        }
        $params["sort_{$q->sort}"] = true;
        $params['from'] = $q->offset();
        $params['size'] = $q->perPage;
        return $params;
    }

    /** The selected attribute facets by name, each with the other selected attributes. */
    public static function attributeSelections(Query $q): array
    {
        $chosen = [];
        $names = array_map('strval', array_keys($q->filters));
        sort($names, SORT_STRING);
        foreach ($names as $name) {
            if ($name !== 'brand' && $q->filters[$name] !== []) {
                $chosen[] = [$name, $q->filters[$name]];
            }
        }
        $out = [];
        foreach ($chosen as [$name, $values]) {
            $others = [];
            foreach ($chosen as [$n, $v]) {
                if ($n !== $name) {
                    $others[] = ['name' => $n, 'values' => $v];
                }
            }
            $out[] = ['name' => $name, 'values' => $values, 'others' => $others];
        }
        return $out;
    }

    /** An amount ("12.345" at most two decimals by the money rule) in cents, up or down. */
    public static function cents(string $amount, bool $up): int
    {
        [$whole, $fraction] = array_pad(explode('.', $amount, 2), 2, '');
        $fraction = str_pad($fraction, 2, '0');
        $cents = (int) $whole * Shared::get('elasticsearch')['cents'] + (int) substr($fraction, 0, 2);
        $rest = rtrim(substr($fraction, 2), '0');
        if ($rest !== '' && $up) {
            $cents++;
        }
        return $cents;
    }

    /** @return array<string, mixed> params of the suggest template (text stripped, cut, not empty) */
    public static function suggest(string $text, string $locale, int $limit): array
    {
        $params = ['locale' => $locale, 'text' => $text, 'name_start' => TextAnalysis::fold($text), 'size' => $limit];
        $max = Shared::get('elasticsearch')['suggest_word'];
        preg_match_all('/\w+/u', mb_strtolower($text, 'UTF-8'), $m);
        $prefixes = array_map(static fn ($w) => mb_substr($w, 0, $max), $m[0]);
        if ($prefixes !== []) {
            $cut = preg_replace_callback('/\w+/u', static fn ($w) => mb_substr($w[0], 0, $max), $text);
            $params['words'] = ['cut' => $cut, 'prefixes' => $prefixes];
        }
        return $params;
    }
}
