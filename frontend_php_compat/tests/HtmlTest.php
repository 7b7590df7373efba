<?php
declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use SnipShop\Compat\Html;
use SnipShop\Compat\Listing;
use SnipShop\Compat\Pages;
use SnipShop\Compat\Request;

/** Escaping, URL encoding and request parsing as the edge's markupsafe, urllib and Werkzeug do them. */
final class HtmlTest extends TestCase
{
    public function testEscapeLikeMarkupsafe(): void
    {
        $this->assertSame('&lt;a href=&#34;x&#34;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;', Html::escape('<a href="x">Tom & Jerry\'s</a>'));
        $this->assertSame('Crème – ü', Html::escape('Crème – ü'));
    }

    public function testUrlencodeLikePython(): void
    {
        $this->assertSame('q=red+shoes&color=Cr%C3%A8me&x=a~b.c_d-e%2F%26%3D%2B', Html::urlencode([['q', 'red shoes'], ['color', 'Crème'], ['x', 'a~b.c_d-e/&=+']]));
        $this->assertSame('?color=Red&sort=name', Listing::href(['color' => ['Red'], 'page' => ['2']], ['sort' => ['name']]));
        $this->assertSame('?', Listing::href(['color' => ['Red']], ['color' => null]));
    }

    public function testQueryParsingKeepsNamesAndBadBytes(): void
    {
        $args = Request::parseQuery('opt.size=M&a+b=c+d&e=%C3%A9&bad=%FF%41&flag&&x=1=2&x=3&pct=%zz');
        $this->assertSame(['M'], $args['opt.size']);
        $this->assertSame(['c d'], $args['a b']);
        $this->assertSame(['é'], $args['e']);
        $this->assertSame(['%FFA'], $args['bad']);
        $this->assertSame([''], $args['flag']);
        $this->assertSame(['1=2', '3'], $args['x']);
        $this->assertSame(['%zz'], $args['pct']);
    }

    public function testCookiesLikeWerkzeug(): void
    {
        $cookies = Request::parseCookies('locale=de_DE; customer_name="Ann \\"A\\" \\303\\251"; locale=en_US; cart_count = 3 ;x.y=%41');
        $this->assertSame('de_DE', $cookies['locale']);
        $this->assertSame('Ann "A" é', $cookies['customer_name']);
        $this->assertSame('3', $cookies['cart_count']);
        $this->assertSame('%41', $cookies['x.y']);
    }

    public function testSnippetValues(): void
    {
        $this->assertNull(Pages::bodyOf(null));
        $this->assertSame('', Pages::bodyOf("12\n"));
        $this->assertSame("a\nb", Pages::bodyOf("12\na\nb"));
        $this->assertSame('<b>Farbe</b> Size', Pages::fillLabels('<b><!--l:color-->Color<!--/l--></b> <!--l:size-->Size<!--/l-->', ['color' => 'Farbe']));
        $this->assertSame('&lt;x&gt;', Pages::fillLabels('<!--l:color-->Color<!--/l-->', ['color' => '<x>']));
    }
}
