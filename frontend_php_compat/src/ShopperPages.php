<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/**
 * The shopper pages (web/edge/home.py, product.py, listing_pages.py): each fetches its
 * snippets in one MGET (after the live pointer) and assembles the page.
 */
final class ShopperPages
{
    public function __construct(private readonly Shop $shop, private readonly Responses $responses)
    {
    }

    public function home(): Response
    {
        $shop = $this->shop;
        $keys = $shop->keys;
        $ctx = $shop->ctx;
        $gen = $shop->live();
        $head = [...$keys->homePage($gen, $ctx), $keys->labels($gen, $ctx)];
        $raw = $shop->reader->fetch($head);
        $parts = explode(Shared::get('keys')['field'], Pages::bodyOf($raw[1]) ?? '', 2);
        $heading = $parts[0];
        $listed = $parts[1] ?? '';
        $skus = $listed !== '' ? explode(',', $listed) : [];
        $tileRaw = $shop->reader->fetch($keys->tiles($gen, $ctx, $skus));
        $tiles = implode('', Listing::tiles($tileRaw, $skus, Pages::labelsOf($raw[2])));
        $title = I18n::messages($ctx->locale)['home'];
        $whole = !$shop->askRepair([...RepairRequests::sharedMisses($raw[0], $raw[1], $raw[2]), ...RepairRequests::tileMisses($tileRaw, $skus)]);
        $frame = $this->responses->frame($raw[0]);
        return $this->responses->html(
            $frame->wrap($title, '<section class="featured">' . $heading . '<ul class="tiles">' . $tiles . '</ul></section>'),
            200,
            $whole,
        );
    }

    public function product(string $sku): Response
    {
        $shop = $this->shop;
        if (preg_match(Shared::whole(Shared::get('keys')['sku_pattern']), $sku) !== 1) {
            return $this->responses->notFound();
        }
        $gen = $shop->live();
        $raw = $shop->reader->fetch($shop->keys->productPage($gen, $shop->ctx, $sku));
        if (RepairRequests::unknownProduct($raw)) {
            $pointer = $shop->reader->fetch([$shop->keys->snippet($gen, 'variant', $shop->ctx, $sku)]);
            $owner = Pages::bodyOf($pointer[0]);
            if ($owner === '') {
                $shop->askRepair(RepairRequests::sharedMisses($raw[0], '', $raw[7]));
                return $this->responses->notFound($this->responses->frame($raw[0]));
            }
            if ($owner !== null && preg_match(Shared::whole(Shared::get('keys')['sku_pattern']), $owner) === 1) {
                return $this->productPage($gen, $owner, $shop->reader->fetch($shop->keys->productPage($gen, $shop->ctx, $owner)), $sku);
            }
        }
        return $this->productPage($gen, $sku, $raw);
    }

    /** @param list<?string> $raw the product page's first fetch */
    private function productPage(int $gen, string $sku, array $raw, ?string $selected = null): Response
    {
        $shop = $this->shop;
        $r = $this->responses;
        $whole = !$shop->askRepair(RepairRequests::productPageMisses($sku, $raw));
        $frame = $r->frame($raw[0]);
        [$detail, $crumb, $price, $offer, $avail, $ld] = array_map([Pages::class, 'bodyOf'], array_slice($raw, 1, 6));
        if ($detail === null) {
            return RepairRequests::unknownProduct($raw) ? $r->notFound($frame, false) : $r->repairing();
        }
        if ($detail === '') {
            return $r->notFound($frame);
        }
        $labels = Pages::labelsOf($raw[7]);
        $listed = Pages::variantSkus($detail);
        $locale = $shop->ctx->locale;
        if ($listed === null) {
            if ($selected !== null) {
                return $r->notFound($frame);
            }
            if (!$whole) {
                [$crumb, $price, $avail] = RepairRequests::degradedParts($locale, $crumb, $price, $offer, $avail);
            }
            return $r->html(Pages::productPage($frame, $detail, $crumb, $price, $offer, $avail, $ld, $labels), 200, $whole);
        }
        if ($selected !== null && !in_array($selected, $listed, true)) {
            return $r->notFound($frame);
        }
        $more = $shop->reader->fetch([
            $shop->keys->snippet($gen, 'variants', $shop->ctx, $sku),
            ...$shop->keys->variantParts($gen, $shop->ctx, $sku, $listed),
        ]);
        $picker = Pages::pickerOf($more[0]);
        $chosen = $this->chosenOptions();
        if ($chosen !== [] && $picker !== null) {
            $target = $picker->choose($chosen);
            if ($target !== null) {
                return $this->toVariant($target);
            }
        }
        $whole = !$shop->askRepair(RepairRequests::variantMisses($sku, $more)) && $whole;
        $parts = Pages::variantParts($listed, array_slice($more, 1));
        if (!$whole) {
            [$crumb, $price, $avail] = RepairRequests::degradedParts($locale, $crumb, $price, $offer, $avail);
            foreach ($parts as $variant => [$vPrice, $vOffer, $vAvail]) {
                [, $vPrice, $vAvail] = RepairRequests::degradedParts($locale, null, $vPrice, $vOffer, $vAvail);
                $parts[$variant] = [$vPrice, $vOffer, $vAvail];
            }
        }
        $body = Pages::productGroupPage($frame->withCanonical("/p/{$sku}"), $detail, $crumb, $price, $offer, $avail, $ld,
            $labels, $picker, $parts, $selected);
        return $r->html($body, 200, $whole);
    }

    /** @return array<string, string> the option values the picker's form sent (opt.size=M) */
    private function chosenOptions(): array
    {
        $request = $this->shop->request;
        if ($request->queryString === '') {
            return [];
        }
        $prefix = Shared::get('listing')['option_prefix'];
        $out = [];
        foreach ($request->args() as $name => $values) {
            $name = (string) $name;
            $value = $values[0];
            if (str_starts_with($name, $prefix) && $value !== '') {
                $out[substr($name, strlen($prefix))] = $value;
            }
        }
        return $out;
    }

    /** The picker's form chose a variant: its page (303, nobody keeps the answer). */
    private function toVariant(string $sku): Response
    {
        $response = new Response('', 303, Shared::get('responses')['html']);
        $response->headers['Location'] = "/p/{$sku}";
        $response->headers['Cache-Control'] = 'no-store';
        $this->responses->rememberChoices($response);
        return $response;
    }

    private function shopperQuery(?string $category = null): Query
    {
        $shop = $this->shop;
        $known = $shop->searching(static fn ($search) => $search->facetNames());
        return QueryParser::parse($shop->request->args(), $shop->ctx->locale, $shop->ctx->currency, $known, $category);
    }

    public function category(string $key): Response
    {
        if (preg_match(Shared::whole(Shared::get('keys')['category_key_pattern']), $key) !== 1) {
            return $this->responses->notFound();
        }
        return $this->listingPage('category', $key, $this->shopperQuery($key));
    }

    public function search(): Response
    {
        $query = $this->shopperQuery();
        $title = I18n::format(I18n::messages($this->shop->ctx->locale)['search_results'], ['q' => $query->text]);
        return $this->listingPage(null, null, $query, $title);
    }

    private function listingPage(?string $headerKind, ?string $ident, Query $query, ?string $title = null): Response
    {
        $shop = $this->shop;
        $r = $this->responses;
        $keys = $shop->keys;
        $ctx = $shop->ctx;
        $result = $shop->searching(static fn ($search) => $search->query($query));
        $gen = $shop->live();
        $head = [$keys->snippet($gen, 'frame', $ctx), $keys->labels($gen, $ctx)];
        if ($headerKind !== null) {
            $head[] = $keys->snippet($gen, $headerKind, $ctx, $ident);
        }
        $raw = $shop->reader->fetch([...$head, ...$keys->tiles($gen, $ctx, $result->skus)]);
        $tileRaw = array_slice($raw, count($head));
        $headerMissing = $headerKind !== null && $raw[2] === null;
        $whole = !$shop->askRepair([
            ...RepairRequests::sharedMisses($raw[0], '', $raw[1]),
            ...($headerMissing ? [RepairRequests::navigation()] : []),
            ...RepairRequests::tileMisses($tileRaw, $result->skus),
        ]);
        $frame = $r->frame($raw[0]);
        $t = I18n::messages($ctx->locale);
        if ($headerKind !== null) {
            $headerBody = Pages::bodyOf($raw[2]);
            if ($headerMissing && $result->skus !== []) {
                return $r->repairing();
            }
            if ($headerBody === null || $headerBody === '') {
                return $r->notFound($frame, $whole);
            }
            [$escapedTitle, $header] = Pages::parts($headerBody);
        } else {
            $escapedTitle = Html::escape($title ?? '');
            $header = '<h1 class="search-title">' . $escapedTitle . '</h1>';
        }
        $stored = Pages::labelsOf($raw[1]);
        $tiles = Listing::tiles($tileRaw, $result->skus, $stored);
        $listing = new Listing($query, $result, $query->params(), $t, $stored);
        return $r->html($frame->wrap($escapedTitle, $listing->body($header, $tiles)), 200, $whole);
    }

    public function suggest(): Response
    {
        $shop = $this->shop;
        $text = mb_substr(Html::strip($shop->request->arg('q') ?? ''), 0, 100);
        $found = $text !== ''
            ? $shop->searching(fn ($search) => $search->suggest($text, $shop->ctx->locale, Shared::get('listing')['suggest_limit']))
            : [];
        $response = Responses::json(array_map(static fn ($s) => ['sku' => $s[0], 'name' => $s[1], 'url' => "/p/{$s[0]}"], $found));
        $response->headers['Cache-Control'] = 'public, max-age=60';
        $response->headers['Vary'] = 'Cookie';
        return $response;
    }
}
