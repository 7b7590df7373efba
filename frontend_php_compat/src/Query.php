<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/**
 * A listing or search query (search/query.py Query). Amounts are kept as the text Python's
 * str(Decimal) gives ("12.50", "7"), which is what links carry.
 */
final class Query
{
    /** @param array<string, list<string>> $filters facet name to the selected values */
    public function __construct(
        public readonly string $locale,
        public readonly string $currency,
        public readonly string $text = '',
        public readonly ?string $category = null,
        public readonly array $filters = [],
        public readonly ?string $priceMin = null,
        public readonly ?string $priceMax = null,
        public readonly bool $inStock = false,
        public readonly string $sort = 'relevance',
        public readonly int $page = 1,
        public readonly int $perPage = 24,
        public readonly bool $pastWindow = false,
    ) {
    }

    public function offset(): int
    {
        return ($this->page - 1) * $this->perPage;
    }

    /** The same query in another context (the embedded index's fallback to known ones). */
    public function inContext(string $locale, string $currency): self
    {
        return new self($locale, $currency, $this->text, $this->category, $this->filters, $this->priceMin,
            $this->priceMax, $this->inStock, $this->sort, $this->page, $this->perPage, $this->pastWindow);
    }

    /** @return array<string, list<string>> the shopper parameters that give this query (what links carry) */
    public function params(): array
    {
        $out = $this->text !== '' ? ['q' => [$this->text]] : [];
        foreach ($this->filters as $name => $values) {
            $out[$name] = $values;
        }
        if ($this->priceMin !== null || $this->priceMax !== null) {
            $out['price'] = [($this->priceMin ?? '') . '-' . ($this->priceMax ?? '')];
        }
        if ($this->inStock) {
            $out['in_stock'] = ['1'];
        }
        if ($this->sort !== 'relevance') {
            $out['sort'] = [$this->sort];
        }
        if ($this->perPage !== Shared::get('query')['default_per_page']) {
            $out['per_page'] = [(string) $this->perPage];
        }
        return $out;
    }

    /** The last page whose results all lie within MAX_RESULT_WINDOW. */
    public static function lastPage(int $perPage): int
    {
        return max(intdiv(Shared::get('query')['max_result_window'], $perPage), 1);
    }
}
