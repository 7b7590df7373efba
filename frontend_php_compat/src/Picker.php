<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/** A product's VARIANTS snippet: the picker html (one SLOT per variant) and its variants. */
final class Picker
{
    /** @param list<array{0: string, 1: array<string, string>}> $variants */
    public function __construct(public readonly string $html, public readonly array $variants)
    {
    }

    /** @return array<string, string>|null */
    public function options(string $sku): ?array
    {
        foreach ($this->variants as [$s, $options]) {
            if ($s === $sku) {
                return $options;
            }
        }
        return null;
    }

    /** @param array<string, string> $chosen the first variant with every option value chosen */
    public function choose(array $chosen): ?string
    {
        foreach ($this->variants as [$s, $options]) {
            $all = true;
            foreach ($chosen as $name => $value) {
                if (!array_key_exists($name, $options) || (string) $options[$name] !== $value) {
                    $all = false;
                    break;
                }
            }
            if ($all) {
                return $s;
            }
        }
        return null;
    }
}
