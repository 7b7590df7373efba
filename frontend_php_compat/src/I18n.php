<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/** Interface words, attribute labels and numbers per locale (vocab/i18n.py). */
final class I18n
{
    /** @return array<string, string> the messages of the locale's language (English by default) */
    public static function messages(string $locale): array
    {
        $all = Shared::get('messages');
        return $all[explode('_', $locale)[0]] ?? $all['en'];
    }

    /** str.format with named fields: "{total} products". */
    public static function format(string $text, array $fields): string
    {
        $map = [];
        foreach ($fields as $name => $value) {
            $map['{' . $name . '}'] = (string) $value;
        }
        return strtr($text, $map);
    }

    /** vocab.i18n.attribute_label without stored labels: the dictionary's word, else the readable code. */
    public static function attributeLabel(string $code, string $locale): string
    {
        $names = Shared::get('attribute_names');
        $found = ($names[explode('_', $locale)[0]] ?? $names['en'])[$code] ?? '';
        return $found !== '' ? $found : self::readableCode($code);
    }

    /** ``features_bags`` → ``Features bags`` (vocab.attributes.readable_attribute_code). */
    public static function readableCode(string $code): string
    {
        $text = Html::strip(implode(' ', explode('_', $code)));
        if ($text === '') {
            return $code;
        }
        return mb_strtoupper(mb_substr($text, 0, 1)) . mb_strtolower(mb_substr($text, 1));
    }

    /** AttributeLabels: the labels snippet's label, else attributeLabel's fallback. */
    public static function label(string $code, string $locale, array $stored): string
    {
        $found = $stored[$code] ?? '';
        return ($found !== '' && $found !== null) ? (string) $found : self::attributeLabel($code, $locale);
    }

    /** ``12,34 €`` in de_DE, ``€12.34`` in en_US (Babel's format_currency; ICU here). */
    public static function money(string $amount, string $currency, string $locale): string
    {
        $formatter = new \NumberFormatter($locale, \NumberFormatter::CURRENCY);
        $text = $formatter->formatCurrency((float) $amount, $currency);
        return $text === false ? $amount : $text;
    }

    /** ``10,000`` in en_US, ``10.000`` in de_DE. */
    public static function number(int $value, string $locale): string
    {
        $formatter = new \NumberFormatter($locale, \NumberFormatter::DECIMAL);
        $text = $formatter->format($value);
        return $text === false ? (string) $value : $text;
    }
}
