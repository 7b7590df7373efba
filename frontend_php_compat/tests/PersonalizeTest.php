<?php
declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use SnipShop\Compat\Frame;
use SnipShop\Compat\Personalize;

/** Personalization variables: valid values escaped, defaults kept otherwise (web/edge/personalize.py). */
final class PersonalizeTest extends TestCase
{
    public function testValuesAreValidatedAndEscaped(): void
    {
        $values = Personalize::valuesFrom(['customer_name' => "  Ann  <b>&\t'Lee\"  ", 'cart_count' => '007'], 'EUR', '/media');
        $this->assertSame([
            'currency' => 'EUR', 'image_base' => '/media', 'customer_name' => 'Ann &lt;b&gt;&amp; &#39;Lee&#34;', 'cart_count' => '7',
        ], $values);
        $this->assertTrue(Personalize::isPersonal($values));
    }

    public function testInvalidCookiesAreIgnored(): void
    {
        $values = Personalize::valuesFrom(['customer_name' => "   \t ", 'cart_count' => '12345'], 'USD');
        $this->assertSame(['currency' => 'USD', 'image_base' => ''], $values);
        $this->assertFalse(Personalize::isPersonal($values));
        $long = Personalize::valuesFrom(['customer_name' => str_repeat('é', 50), 'cart_count' => '-1'], 'EUR');
        $this->assertSame(str_repeat('é', 40), $long['customer_name']);
        $this->assertArrayNotHasKey('cart_count', $long);
    }

    public function testFillTakesValuesAndKeepsDefaults(): void
    {
        $page = '<p>Hello <!--v:customer_name-->guest<!--/v-->, <!--v:cart_count-->0<!--/v--> items,'
            . ' <!--v:unknown-->x<!--/v--> <!--v:currency-->EUR<!--/v--></p>';
        $this->assertSame('<p>Hello Ann, 0 items, x USD</p>', Personalize::fill($page, ['customer_name' => 'Ann', 'currency' => 'USD']));
        $this->assertSame('plain', Personalize::fill('plain', ['customer_name' => 'Ann']));
        $multi = "<!--v:customer_name-->a\nb<!--/v-->";
        $this->assertSame('Z', Personalize::fill($multi, ['customer_name' => 'Z']));
    }

    public function testFrameIsFilledPartByPart(): void
    {
        $frame = Personalize::frame(new Frame('<!--v:currency-->EUR<!--/v-->', 'm', '<!--v:cart_count-->0<!--/v-->'), ['currency' => 'USD', 'cart_count' => '3']);
        $this->assertSame('USDtitlem' . 'body3', $frame->wrap('title', 'body'));
    }
}
