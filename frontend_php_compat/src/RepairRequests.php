<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/**
 * Read-repair, the front end's side (web/edge/repair_requests.py): what a page missed is noted in
 * Redis with the edge's own script (a rate-limit key per thing, an entry in the pending set);
 * the projector drains the set. Things are [kind, id]; entries "kind:id".
 */
final class RepairRequests
{
    public function __construct(private readonly \Closure $connect, private readonly KeyScheme $keys)
    {
    }

    /** The store's connection, opened on first use (a liveness check opens none). */
    private function redis(): \Redis
    {
        return ($this->connect)();
    }

    /** @param list<array{0: string, 1: string}> $things ask for their re-projection; never throws */
    public function request(array $things): int
    {
        $unique = [];
        foreach ($things as $thing) {
            $unique[$thing[0] . ':' . $thing[1]] = $thing;
        }
        if ($unique === []) {
            return 0;
        }
        $repair = Shared::get('repair');
        $keys = [$this->keys->repairPending()];
        foreach ($unique as [$kind, $ident]) {
            $keys[] = $this->keys->repairSeen($kind, $ident);
        }
        $args = [(string) $repair['window_seconds'], (string) $repair['max_pending'], ...array_map('strval', array_keys($unique))];
        $script = $repair['script'];
        try {
            $reply = $this->redis()->evalSha(sha1($script), [...$keys, ...$args], count($keys));
            if ($reply === false && str_contains((string) $this->redis()->getLastError(), 'NOSCRIPT')) {
                $this->redis()->clearLastError();
                $reply = $this->redis()->eval($script, [...$keys, ...$args], count($keys));
            }
            return (int) $reply;
        } catch (\RedisException $e) {
            error_log('repair request failed: ' . $e->getMessage());
            return 0;
        }
    }

    public static function product(string $sku): array
    {
        return [Shared::get('repair')['product'], $sku];
    }

    public static function navigation(): array
    {
        return [Shared::get('repair')['navigation'], Shared::get('keys')['shop_wide']];
    }

    public static function home(): array
    {
        return [Shared::get('repair')['home'], Shared::get('keys')['shop_wide']];
    }

    public static function labels(): array
    {
        return [Shared::get('repair')['labels'], Shared::get('keys')['shop_wide']];
    }

    private static function gone(?string $raw): bool
    {
        return $raw !== null && Pages::bodyOf($raw) === '';
    }

    /** @param list<?string> $raw a product page's fetch (PRODUCT_PAGE_KINDS order) */
    public static function productPageMisses(string $sku, array $raw): array
    {
        [$frame, $detail, $crumb, $price, , $avail, $ld] = $raw;
        $things = $frame === null ? [self::navigation()] : [];
        if (!self::gone($detail) && in_array(null, [$detail, $crumb, $price, $avail, $ld], true)) {
            $things[] = self::product($sku);
        }
        if (count($raw) > 7 && $raw[7] === null) {
            $things[] = self::labels();
        }
        return $things;
    }

    /** @param list<?string> $raw the second fetch of a product with variants */
    public static function variantMisses(string $sku, array $raw): array
    {
        $width = count(Shared::get('keys')['variant_kinds']);
        $parts = array_slice($raw, 1);
        if ($raw[0] === null) {
            return [self::product($sku)];
        }
        for ($i = 0; $i < count($parts); $i += $width) {
            if ($parts[$i] === null || ($parts[$i + 2] ?? null) === null) {
                return [self::product($sku)];
            }
        }
        return [];
    }

    /** Nothing at all is stored for the product (a 404, most likely). */
    public static function unknownProduct(array $raw): bool
    {
        for ($i = 1; $i < 7; $i++) {
            if ($raw[$i] !== null) {
                return false;
            }
        }
        return true;
    }

    /** @param list<?string> $raw @param list<string> $skus */
    public static function tileMisses(array $raw, array $skus): array
    {
        $width = count(Shared::get('keys')['tile_kinds']);
        $things = [];
        foreach ($skus as $i => $sku) {
            [$tile, $price, , $avail] = array_slice($raw, $i * $width, $width) + [null, null, null, null];
            if (!self::gone($tile) && ($tile === null || $price === null || $avail === null)) {
                $things[] = self::product($sku);
            }
        }
        return $things;
    }

    /** The shop-wide snippets; pass '' for what the page does not fetch. */
    public static function sharedMisses(?string $frame, ?string $home = '', ?string $labels = ''): array
    {
        return array_merge(
            $frame === null ? [self::navigation()] : [],
            $home === null ? [self::home()] : [],
            $labels === null ? [self::labels()] : [],
        );
    }

    public static function forMissing(string $what): array
    {
        if ($what === 'live generation') {
            return [self::navigation(), self::labels(), self::home()];
        }
        return [self::navigation()];
    }

    /** @return array{0: string, 1: ?string, 2: string} stand-ins for missing (crumb, price, avail) */
    public static function degradedParts(string $locale, ?string $crumb, ?string $price, ?string $offer, ?string $avail): array
    {
        $all = Shared::get('unavailable_parts');
        $words = $all[explode('_', $locale)[0]] ?? $all['en'];
        $field = Shared::get('keys')['field'];
        if ($price === null && ($offer === null || $offer === '')) {
            $price = '<p class="price unavailable">' . $words['price'] . '</p>' . $field;
        }
        if ($avail === null) {
            $avail = '<p class="availability unavailable">' . $words['avail'] . '</p>' . $field;
        }
        return [($crumb === null || $crumb === '') ? '' : $crumb, $price, $avail];
    }
}
