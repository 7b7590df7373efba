<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/**
 * The key scheme as vocab/keys.py owns it (docs/keys.md): the keys the shopper pages read.
 * Kinds, the shop-wide id and which kinds are per currency come from the shared tables;
 * PHPUnit checks the keys against tests/fixtures/keys.json, as the Python tests do.
 */
final class KeyScheme
{
    /** @var array<string, true> */
    private array $perCurrency;
    /** @var array<string, true> */
    private array $shopWideKinds;
    private string $shopWide;

    public function __construct(public readonly string $prefix = 'ss')
    {
        $keys = Shared::get('keys');
        $this->perCurrency = array_fill_keys($keys['per_currency'], true);
        $this->shopWideKinds = array_fill_keys($keys['shop_wide_kinds'], true);
        $this->shopWide = $keys['shop_wide'];
    }

    public function live(): string
    {
        return "{$this->prefix}:live";
    }

    /** What the front ends served from one generation in one minute while a canary ran (vocab/canary_stats.py). */
    public function canaryStats(int $gen, int $minute): string
    {
        return "{$this->prefix}:canary:stats:{$gen}:{$minute}";
    }

    /** The running canary: JSON generation, base, percent, started_at, templates (docs/canary.md). */
    public function canary(): string
    {
        return "{$this->prefix}:canary";
    }

    public function snippet(int $gen, string $kind, Context $ctx, ?string $ident = null): string
    {
        $context = isset($this->perCurrency[$kind]) ? "{$ctx->locale}.{$ctx->currency}" : $ctx->locale;
        $ident ??= $this->shopWide;
        return "{$this->prefix}:{$gen}:{$kind}:{$context}:{{$ident}}";
    }

    public function variantSnippet(int $gen, string $kind, Context $ctx, string $product, string $variant): string
    {
        return $this->snippet($gen, $kind, $ctx, $product) . ':' . $variant;
    }

    /** @return list<string> every key of a product page, in the order of PRODUCT_PAGE_KINDS */
    public function productPage(int $gen, Context $ctx, string $sku): array
    {
        $out = [];
        foreach (Shared::get('keys')['product_page_kinds'] as $kind) {
            $out[] = $this->snippet($gen, $kind, $ctx, isset($this->shopWideKinds[$kind]) ? $this->shopWide : $sku);
        }
        return $out;
    }

    /**
     * @param list<string> $variants
     * @return list<string>
     */
    public function variantParts(int $gen, Context $ctx, string $product, array $variants): array
    {
        $out = [];
        $kinds = Shared::get('keys')['variant_kinds'];
        foreach ($variants as $variant) {
            foreach ($kinds as $kind) {
                $out[] = $this->variantSnippet($gen, $kind, $ctx, $product, $variant);
            }
        }
        return $out;
    }

    public function labels(int $gen, Context $ctx): string
    {
        return $this->snippet($gen, 'labels', $ctx);
    }

    /** @return list<string> */
    public function homePage(int $gen, Context $ctx): array
    {
        return [$this->snippet($gen, 'frame', $ctx), $this->snippet($gen, 'home', $ctx)];
    }

    /**
     * @param list<string> $skus
     * @return list<string> for each SKU, in order, the keys of TILE_KINDS
     */
    public function tiles(int $gen, Context $ctx, array $skus): array
    {
        $out = [];
        $kinds = Shared::get('keys')['tile_kinds'];
        foreach ($skus as $sku) {
            foreach ($kinds as $kind) {
                $out[] = $this->snippet($gen, $kind, $ctx, $sku);
            }
        }
        return $out;
    }

    // --- the embedded search index (search/embedded*.py) ---------------------------------

    public function searchLive(): string
    {
        return "{$this->prefix}:search:live";
    }

    /** The generation the canary's search reads while a canary runs (docs/canary.md). */
    public function searchCanary(): string
    {
        return "{$this->prefix}:search:canary";
    }

    public function searchIndex(int $gen): string
    {
        // The hash tag keeps one generation's index in one Redis Cluster slot (docs/keys.md).
        return $this->prefix . ':' . $gen . ':idx:{' . $this->prefix . ':' . $gen . '}:';
    }

    public function searchVisible(int $gen): string
    {
        return $this->searchIndex($gen) . 'visible';
    }

    public function searchInStock(int $gen): string
    {
        return $this->searchIndex($gen) . 'in_stock';
    }

    public function searchCategory(int $gen, string $category): string
    {
        return $this->searchIndex($gen) . "cat:{$category}";
    }

    public function searchFacetValue(int $gen, string $facet, string $value): string
    {
        return $this->searchIndex($gen) . "f:{$facet}:{$value}";
    }

    public function searchFacetBitmap(int $gen, string $facet, string $value): string
    {
        return $this->searchIndex($gen) . "fb:{$facet}:{$value}";
    }

    public function searchIds(int $gen): string
    {
        return $this->searchIndex($gen) . 'ids';
    }

    public function searchIdSeq(int $gen): string
    {
        return $this->searchIndex($gen) . 'idseq';
    }

    public function searchFacetRegistry(int $gen): string
    {
        return $this->searchIndex($gen) . 'facets';
    }

    public function searchPrice(int $gen, string $currency): string
    {
        return $this->searchIndex($gen) . "price:{$currency}";
    }

    public function searchWithVariants(int $gen): string
    {
        return $this->searchIndex($gen) . 'with_variants';
    }

    public function searchVariants(int $gen): string
    {
        return $this->searchIndex($gen) . 'variants';
    }

    public function searchVariantFacet(int $gen, string $facet, string $value): string
    {
        return $this->searchIndex($gen) . "vf:{$facet}:{$value}";
    }

    public function searchSoldOutValue(int $gen, string $facet, string $value): string
    {
        return $this->searchIndex($gen) . "fo:{$facet}:{$value}";
    }

    public function searchSoldOutBitmap(int $gen, string $facet, string $value): string
    {
        return $this->searchIndex($gen) . "fob:{$facet}:{$value}";
    }

    public function searchStockPrice(int $gen, string $currency): string
    {
        return $this->searchIndex($gen) . "sprice:{$currency}";
    }

    public function searchVariantInStock(int $gen): string
    {
        return $this->searchIndex($gen) . 'vin_stock';
    }

    public function searchVariantPrice(int $gen, string $currency): string
    {
        return $this->searchIndex($gen) . "vprice:{$currency}";
    }

    public function searchCreated(int $gen): string
    {
        return $this->searchIndex($gen) . 'created';
    }

    public function searchNameRank(int $gen, string $locale): string
    {
        return $this->searchIndex($gen) . "name_rank:{$locale}";
    }

    public function searchNames(int $gen, string $locale): string
    {
        return $this->searchIndex($gen) . "names:{$locale}";
    }

    public function searchNamePrefix(int $gen, string $locale): string
    {
        return $this->searchIndex($gen) . "name_lex:{$locale}";
    }

    public function searchNameWords(int $gen, string $locale): string
    {
        return $this->searchIndex($gen) . "name_words:{$locale}";
    }

    public function searchSkuPrefix(int $gen): string
    {
        return $this->searchIndex($gen) . 'sku_lex';
    }

    public function searchTerm(int $gen, string $locale, bool $inName, string $term): string
    {
        return $this->searchIndex($gen) . ($inName ? 'tn' : 'td') . ":{$locale}:{$term}";
    }

    public function searchVocabulary(int $gen, string $locale): string
    {
        return $this->searchIndex($gen) . "vocab:{$locale}";
    }

    public function searchTemp(int $gen, string $nonce, int $n): string
    {
        return $this->searchIndex($gen) . "tmp:{$nonce}:{$n}";
    }

    // --- read-repair (web/edge/repair_requests.py) ------------------------------------------

    public function repairPending(): string
    {
        return "{$this->prefix}:{repair}:pending";
    }

    public function repairSeen(string $kind, string $ident): string
    {
        return "{$this->prefix}:{repair}:seen:{$kind}:{$ident}";
    }
}
