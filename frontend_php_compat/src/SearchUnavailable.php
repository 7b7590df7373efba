<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/** The search engine did not answer (a 503, never a 500). */
final class SearchUnavailable extends \RuntimeException
{
}
