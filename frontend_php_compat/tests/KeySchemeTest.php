<?php
declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use SnipShop\Compat\Context;
use SnipShop\Compat\KeyScheme;

/** The key scheme against the shared fixture of example keys (tests/fixtures/keys.json). */
final class KeySchemeTest extends TestCase
{
    public function testEveryExampleKey(): void
    {
        $examples = fixture('tests/fixtures/keys.json');
        $this->assertNotEmpty($examples);
        $keys = new KeyScheme('ss');
        foreach ($examples as $example) {
            $ctx = new Context($example['locale'], $example['currency']);
            $this->assertSame($example['key'], $keys->snippet($example['generation'], $example['kind'], $ctx, $example['id'] ?? null));
        }
    }

    public function testProductPageKeysInTheEdgesOrder(): void
    {
        $keys = (new KeyScheme('ss'))->productPage(7, new Context('de_DE', 'USD'), 'MH01');
        $this->assertSame([
            'ss:7:frame:de_DE:{_}', 'ss:7:detail:de_DE:{MH01}', 'ss:7:crumb:de_DE:{MH01}', 'ss:7:price:de_DE.USD:{MH01}',
            'ss:7:offer:de_DE.USD:{MH01}', 'ss:7:avail:de_DE:{MH01}', 'ss:7:ld:de_DE:{MH01}', 'ss:7:labels:de_DE:{_}',
        ], $keys);
    }

    public function testVariantPartsShareTheProductsHashTag(): void
    {
        $keys = (new KeyScheme('shop'))->variantParts(2, new Context('en_US', 'EUR'), 'MH01', ['MH01-S']);
        $this->assertSame(['shop:2:price:en_US.EUR:{MH01}:MH01-S', 'shop:2:offer:en_US.EUR:{MH01}:MH01-S', 'shop:2:avail:en_US:{MH01}:MH01-S'], $keys);
        $this->assertSame('shop:{repair}:pending', (new KeyScheme('shop'))->repairPending());
    }
}
