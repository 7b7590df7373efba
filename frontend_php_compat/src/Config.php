<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/**
 * The edge's settings that the PHP front end needs, read from the environment as
 * snipshop/config.py reads them (same variables, same defaults).
 */
final class Config
{
    /**
     * @param list<string> $locales
     * @param list<string> $currencies
     */
    public function __construct(
        public readonly string $redisUrl = 'redis://127.0.0.1:6379/0',
        public readonly ?string $elasticsearchUrl = null,
        public readonly array $locales = ['en_US'],
        public readonly array $currencies = ['EUR'],
        public readonly string $keyPrefix = 'ss',
        public readonly string $imageBaseUrl = '/media',
        public readonly string $revision = 'unknown',
    ) {
    }

    /** @param array<string, string>|null $env the environment (default: getenv()) */
    public static function fromEnvironment(?array $env = null): self
    {
        $env ??= getenv();
        $get = static fn (string $name, string $default): string =>
            isset($env[$name]) ? (string) $env[$name] : $default;
        $es = $env['ELASTICSEARCH_URL'] ?? '';
        return new self(
            $get('REDIS_URL', 'redis://127.0.0.1:6379/0'),
            $es !== '' ? $es : null,
            self::list($get('SHOP_LOCALES', 'en_US')),
            array_map('strtoupper', self::list($get('SHOP_CURRENCIES', 'EUR'))),
            $get('SHOP_KEY_PREFIX', 'ss'),
            self::imageBase($get('IMAGE_BASE_URL', '/media')),
            ($env['SNIPSHOP_REVISION'] ?? '') !== '' ? (string) $env['SNIPSHOP_REVISION'] : 'unknown',
        );
    }

    /** @return list<string> */
    private static function list(string $value): array
    {
        $items = array_values(array_filter(array_map('trim', explode(',', $value)), static fn ($v) => $v !== ''));
        if ($items === []) {
            throw new \InvalidArgumentException('expected a comma-separated list with at least one item');
        }
        return $items;
    }

    /** vocab/images.py image_base: trimmed, without its trailing slash (validated by the Python side). */
    private static function imageBase(string $value): string
    {
        $value = trim($value);
        $stripped = rtrim($value, '/');
        return $stripped;
    }

    public function defaultLocale(): string
    {
        return $this->locales[0];
    }

    public function defaultCurrency(): string
    {
        return $this->currencies[0];
    }
}
