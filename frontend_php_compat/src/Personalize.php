<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/**
 * Personalization (web/edge/personalize.py): fill the variables of an assembled page in one
 * linear pass. Values come from cookies and the context, validated, then HTML-escaped; a
 * variable without a valid value, or one not known here, keeps its default.
 */
final class Personalize
{
    /**
     * @param array<string, string> $cookies
     * @return array<string, string> the variable values of one request, already escaped
     */
    public static function valuesFrom(array $cookies, string $currency, string $imageBase = ''): array
    {
        $rules = Shared::get('personalize');
        $values = ['currency' => Html::escape($currency), 'image_base' => Html::escape($imageBase)];
        $name = mb_substr(implode(' ', Html::splitWhite($cookies['customer_name'] ?? '')), 0, $rules['max_name']);
        if ($name !== '') {
            $values['customer_name'] = Html::escape($name);
        }
        $count = $cookies['cart_count'] ?? '';
        if (preg_match(Shared::whole($rules['cart_count_pattern']), $count) === 1 && self::asciiDigits($count)) {
            $values['cart_count'] = (string) (int) $count;
        }
        return $values;
    }

    /** Python's \d matches any decimal digit; int() of them is the same number. */
    private static function asciiDigits(string $count): bool
    {
        return ctype_digit($count);
    }

    /** @param array<string, string> $values */
    public static function fill(string $page, array $values): string
    {
        $keys = Shared::get('keys');
        if (!str_contains($page, $keys['var_open'])) {
            return $page;
        }
        return (string) preg_replace_callback(
            '#' . $keys['var_pattern'] . '#s',
            static fn (array $m): string => $values[$m[1]] ?? $m[2],
            $page,
        );
    }

    /** @param array<string, string> $values */
    public static function frame(Frame $frame, array $values): Frame
    {
        return new Frame(self::fill($frame->head, $values), self::fill($frame->middle, $values), self::fill($frame->tail, $values));
    }

    /** @param array<string, string> $values */
    public static function isPersonal(array $values): bool
    {
        foreach (Shared::get('personalize')['personal'] as $name) {
            if (isset($values[$name])) {
                return true;
            }
        }
        return false;
    }
}
