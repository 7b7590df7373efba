<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/**
 * Page assembly (web/edge/pages.py): stored snippet values in, one HTML string out. Pure string
 * work. A value is "version\nbody"; an empty body is a tombstone.
 */
final class Pages
{
    /** The snippet body, or null when missing; a tombstone gives ''. */
    public static function bodyOf(string|false|null $raw): ?string
    {
        if ($raw === null || $raw === false) {
            return null;
        }
        $at = strpos($raw, "\n");
        return $at === false ? '' : substr($raw, $at + 1);
    }

    public static function frameOf(string|false|null $raw): Frame
    {
        $body = self::bodyOf($raw);
        if ($body === null || $body === '') {
            throw new MissingSnippet('frame');
        }
        $parts = explode(Shared::get('keys')['slot'], $body, 3);
        return new Frame($parts[0], $parts[1] ?? '', $parts[2] ?? '');
    }

    /** @return array<string, string> the attribute labels of a LABELS snippet; empty when missing */
    public static function labelsOf(string|false|null $raw): array
    {
        $body = self::bodyOf($raw);
        if ($body === null || $body === '') {
            return [];
        }
        $labels = json_decode($body, true);
        return is_array($labels) ? $labels : [];
    }

    /** @param array<string, string> $labels */
    public static function fillLabels(string $html, array $labels): string
    {
        $keys = Shared::get('keys');
        if (!str_contains($html, $keys['label_open'])) {
            return $html;
        }
        return (string) preg_replace_callback(
            '#' . $keys['label_pattern'] . '#s',
            static fn (array $m): string => array_key_exists($m[1], $labels) ? Html::escape((string) $labels[$m[1]]) : $m[2],
            $html,
        );
    }

    /** @return array{0: string, 1: string} html and fragment of "html FIELD fragment" */
    public static function parts(string $body): array
    {
        $p = explode(Shared::get('keys')['field'], $body, 2);
        return [$p[0], $p[1] ?? ''];
    }

    /** @param array<string, string> $labels */
    public static function productPage(
        Frame $frame, string $detail, ?string $crumb, ?string $price, ?string $offer, ?string $avail, ?string $ld, array $labels = [],
    ): string {
        [$title, $detailHtml] = self::parts($detail);
        $detailHtml = self::fillLabels($detailHtml, $labels);
        [$priceHtml, $priceLd, $availHtml, $availLd] = self::buy($price, $offer, $avail);
        $script = ($ld !== null && $ld !== '')
            ? '<script type="application/ld+json">' . $ld . self::offerLd($priceLd, $availLd) . '}</script>' : '';
        $body = ($crumb ?? '') . '<div class="product-page">' . $detailHtml
            . '<aside class="buy">' . $priceHtml . $availHtml . '</aside></div>' . $script;
        return $frame->wrap($title, $body);
    }

    /** @return list<string>|null the visible variants a DETAIL lists; null for a simple product */
    public static function variantSkus(string $detail): ?array
    {
        $parts = explode(Shared::get('keys')['field'], $detail);
        if (count($parts) < 3) {
            return null;
        }
        return $parts[2] !== '' ? explode(',', $parts[2]) : [];
    }

    public static function pickerOf(string|false|null $raw): ?Picker
    {
        $body = self::bodyOf($raw);
        if ($body === null || $body === '') {
            return null;
        }
        [$html, $data] = self::parts($body);
        $variants = [];
        foreach (json_decode($data, true)['variants'] as [$sku, $options]) {
            $variants[] = [(string) $sku, (array) $options];
        }
        return new Picker($html, $variants);
    }

    /**
     * @param list<string> $skus
     * @param list<string|false|null> $raw
     * @return array<string, array{0: ?string, 1: ?string, 2: ?string}>
     */
    public static function variantParts(array $skus, array $raw): array
    {
        $width = count(Shared::get('keys')['variant_kinds']);
        $out = [];
        foreach ($skus as $i => $sku) {
            $out[$sku] = [
                self::bodyOf($raw[$i * $width] ?? null),
                self::bodyOf($raw[$i * $width + 1] ?? null),
                self::bodyOf($raw[$i * $width + 2] ?? null),
            ];
        }
        return $out;
    }

    /** @return array{0: string, 1: string, 2: string, 3: string} */
    public static function buy(?string $price, ?string $offer, ?string $avail): array
    {
        $money = ($offer !== null && $offer !== '') ? $offer : (($price !== null && $price !== '') ? $price : '');
        [$priceHtml, $priceLd] = self::parts($money);
        [$availHtml, $availLd] = self::parts($avail ?? '');
        return [$priceHtml, $priceLd, $availHtml, $availLd];
    }

    public static function offerLd(string $priceLd, string $availLd): string
    {
        if ($priceLd === '') {
            return '';
        }
        return ',"offers":{"@type":"Offer",' . $priceLd . ($availLd !== '' ? ',' . $availLd : '') . '}';
    }

    /** @param array<string, array{0: ?string, 1: ?string, 2: ?string}> $parts */
    private static function pickerHtml(Picker $picker, array $parts, ?string $selected): string
    {
        $pieces = explode(Shared::get('keys')['slot'], $picker->html);
        $out = [$pieces[0]];
        foreach ($picker->variants as $i => [$sku, $_]) {
            if (!array_key_exists($i + 1, $pieces)) {
                break;
            }
            [$priceHtml, , $availHtml] = self::buy(...($parts[$sku] ?? [null, null, null]));
            $out[] = $priceHtml . $availHtml . $pieces[$i + 1];
        }
        $html = implode('', $out);
        $options = $selected !== null ? $picker->options($selected) : null;
        if ($selected !== null && $options !== null) {
            foreach ($options as $name => $value) {
                $radio = '<input type="radio" name="opt.' . Html::escape((string) $name) . '" value="' . Html::escape((string) $value) . '">';
                $html = self::replaceOnce($html, $radio, substr($radio, 0, -1) . ' checked>');
            }
            $entry = '<li class="variant" data-variant="' . Html::escape($selected) . '">';
            $html = self::replaceOnce($html, $entry, substr($entry, 0, -1) . ' aria-current="true">');
        }
        return $html;
    }

    private static function replaceOnce(string $haystack, string $needle, string $with): string
    {
        $at = strpos($haystack, $needle);
        return $at === false ? $haystack : substr_replace($haystack, $with, $at, strlen($needle));
    }

    /**
     * @param array<string, string> $labels
     * @param array<string, array{0: ?string, 1: ?string, 2: ?string}> $parts
     */
    public static function productGroupPage(
        Frame $frame, string $detail, ?string $crumb, ?string $price, ?string $offer, ?string $avail, ?string $ld,
        array $labels, ?Picker $picker, array $parts, ?string $selected = null,
    ): string {
        $field = Shared::get('keys')['field'];
        [$title, $detailHtml] = explode($field, $detail, 3);
        if ($selected !== null) {
            [$price, $offer, $avail] = $parts[$selected] ?? [null, null, null];
        }
        [$priceHtml, , $availHtml] = self::buy($price, $offer, $avail);
        $chooser = $picker !== null ? self::fillLabels(self::pickerHtml($picker, $parts, $selected), $labels) : '';
        $script = '';
        if ($ld !== null && $ld !== '') {
            $pieces = explode($field, $ld);
            $head = array_shift($pieces);
            $variants = [];
            for ($i = 0; $i + 1 < count($pieces); $i += 2) {
                [, $priceLd, , $availLd] = self::buy(...($parts[$pieces[$i]] ?? [null, null, null]));
                $variants[] = $pieces[$i + 1] . self::offerLd($priceLd, $availLd) . '}';
            }
            $script = '<script type="application/ld+json">' . $head . implode(',', $variants) . ']}</script>';
        }
        $body = ($crumb ?? '') . '<div class="product-page">' . self::fillLabels($detailHtml, $labels)
            . '<aside class="buy">' . $priceHtml . $availHtml . $chooser . '</aside></div>' . $script;
        return $frame->wrap($title, $body);
    }

    /** A short message (404 and the like) in the page frame, with a link home. */
    public static function messagePage(Frame $frame, string $title, string $message, ?string $home = null): string
    {
        $t = Html::escape($title);
        $link = ($home !== null && $home !== '') ? '<p><a href="/">' . Html::escape($home) . '</a></p>' : '';
        return $frame->wrap($t, '<section class="message"><h1>' . $t . '</h1><p>' . Html::escape($message) . '</p>' . $link . '</section>');
    }

    /** When not even the frame is available. */
    public static function barePage(string $title, string $message, string $locale = 'en_US'): string
    {
        $t = Html::escape($title);
        $lang = Html::escape(explode('_', $locale)[0]);
        return '<!doctype html><html lang="' . $lang . '"><head><meta charset="utf-8">'
            . '<meta name="viewport" content="width=device-width, initial-scale=1"><title>' . $t . '</title>'
            . '<link rel="stylesheet" href="/static/shop.css"></head>'
            . '<body><main class="message"><h1>' . $t . '</h1><p>' . Html::escape($message) . '</p></main></body></html>';
    }
}
