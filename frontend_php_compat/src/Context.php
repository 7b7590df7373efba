<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/** The shopper's locale and currency (vocab.keys.Context). */
final class Context
{
    public function __construct(public readonly string $locale, public readonly string $currency)
    {
    }

    /**
     * The context from the query, then cookies, then the defaults (web/edge/context.py), and the
     * cookies to (re)set because the query chose a new value.
     *
     * @param list<string> $locales
     * @param list<string> $currencies
     * @return array{0: Context, 1: array<string, string>}
     */
    public static function resolve(Request $request, array $locales, array $currencies): array
    {
        $remember = [];
        if ($request->queryString === '' && $request->cookieHeader === '') {
            return [new self($locales[0], $currencies[0]), $remember];
        }
        $pick = static function (string $name, array $allowed) use ($request, &$remember): string {
            $asked = $request->arg($name);
            if ($asked !== null && in_array($asked, $allowed, true)) {
                if ($request->cookie($name) !== $asked) {
                    $remember[$name] = $asked;
                }
                return $asked;
            }
            $cookie = $request->cookie($name);
            return $cookie !== null && in_array($cookie, $allowed, true) ? $cookie : $allowed[0];
        };
        $locale = $pick('locale', $locales);
        $currency = $pick('currency', $currencies);
        return [new self($locale, $currency), $remember];
    }
}
