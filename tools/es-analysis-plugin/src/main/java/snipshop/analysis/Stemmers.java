package snipshop.analysis;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.de.GermanLightStemFilter;
import org.apache.lucene.analysis.de.GermanMinimalStemFilter;
import org.apache.lucene.analysis.en.EnglishMinimalStemFilter;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.en.KStemFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.apache.lucene.analysis.es.SpanishLightStemFilter;
import org.apache.lucene.analysis.fr.FrenchLightStemFilter;
import org.apache.lucene.analysis.fr.FrenchMinimalStemFilter;
import org.apache.lucene.analysis.it.ItalianLightStemFilter;
import org.apache.lucene.analysis.snowball.SnowballFilter;
import org.tartarus.snowball.SnowballStemmer;
import org.tartarus.snowball.ext.DanishStemmer;
import org.tartarus.snowball.ext.DutchStemmer;
import org.tartarus.snowball.ext.EnglishStemmer;
import org.tartarus.snowball.ext.FrenchStemmer;
import org.tartarus.snowball.ext.German2Stemmer;
import org.tartarus.snowball.ext.GermanStemmer;
import org.tartarus.snowball.ext.ItalianStemmer;
import org.tartarus.snowball.ext.NorwegianStemmer;
import org.tartarus.snowball.ext.PorterStemmer;
import org.tartarus.snowball.ext.PortugueseStemmer;
import org.tartarus.snowball.ext.SpanishStemmer;
import org.tartarus.snowball.ext.SwedishStemmer;

/**
 * The languages of the {@code stemmer} filter (analysis-common's names) and of the {@code snowball}
 * filter. Snowball stemmers are created directly, not by reflection on their names.
 */
final class Stemmers {

    private Stemmers() {}

    private static final Map<String, Supplier<SnowballStemmer>> SNOWBALL = new TreeMap<>(Map.ofEntries(
        Map.entry("english", EnglishStemmer::new),
        Map.entry("porter", PorterStemmer::new),
        Map.entry("german", GermanStemmer::new),
        Map.entry("german2", German2Stemmer::new),
        Map.entry("french", FrenchStemmer::new),
        Map.entry("spanish", SpanishStemmer::new),
        Map.entry("italian", ItalianStemmer::new),
        Map.entry("dutch", DutchStemmer::new),
        Map.entry("portuguese", PortugueseStemmer::new),
        Map.entry("danish", DanishStemmer::new),
        Map.entry("swedish", SwedishStemmer::new),
        Map.entry("norwegian", NorwegianStemmer::new)));

    private static final Map<String, Function<TokenStream, TokenStream>> STEMMER = new TreeMap<>(Map.ofEntries(
        // English: "english" and "porter" are the Porter stemmer, as in Elasticsearch.
        Map.entry("english", PorterStemFilter::new),
        Map.entry("porter", PorterStemFilter::new),
        Map.entry("porter2", snowballFilter("english")),
        Map.entry("light_english", KStemFilter::new),
        Map.entry("kstem", KStemFilter::new),
        Map.entry("minimal_english", EnglishMinimalStemFilter::new),
        Map.entry("possessive_english", EnglishPossessiveFilter::new),
        // German: "german" is Snowball; "light_german" is what Lucene's GermanAnalyzer uses.
        Map.entry("german", snowballFilter("german")),
        Map.entry("german2", snowballFilter("german2")),
        Map.entry("light_german", GermanLightStemFilter::new),
        Map.entry("minimal_german", GermanMinimalStemFilter::new),
        Map.entry("french", snowballFilter("french")),
        Map.entry("light_french", FrenchLightStemFilter::new),
        Map.entry("minimal_french", FrenchMinimalStemFilter::new),
        Map.entry("spanish", snowballFilter("spanish")),
        Map.entry("light_spanish", SpanishLightStemFilter::new),
        Map.entry("italian", snowballFilter("italian")),
        Map.entry("light_italian", ItalianLightStemFilter::new),
        Map.entry("dutch", snowballFilter("dutch")),
        Map.entry("portuguese", snowballFilter("portuguese")),
        Map.entry("danish", snowballFilter("danish")),
        Map.entry("swedish", snowballFilter("swedish")),
        Map.entry("norwegian", snowballFilter("norwegian"))));

    /** The stem filter for a {@code stemmer} filter's {@code language} (case-insensitive, camelCase allowed). */
    static Function<TokenStream, TokenStream> stemmer(String language) {
        String key = language.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
        Function<TokenStream, TokenStream> f = STEMMER.get(key);
        if (f == null) {
            throw new IllegalArgumentException("stemmer language [" + language + "] is not supported by the "
                + "snipshop-analysis plugin; supported: " + STEMMER.keySet());
        }
        return f;
    }

    /** A new Snowball stemmer for a {@code snowball} filter's {@code language} ("English", "German", ...). */
    static SnowballStemmer snowball(String language) {
        Supplier<SnowballStemmer> s = SNOWBALL.get(language.toLowerCase(Locale.ROOT));
        if (s == null) {
            throw new IllegalArgumentException("snowball language [" + language + "] is not supported by the "
                + "snipshop-analysis plugin; supported: " + SNOWBALL.keySet());
        }
        return s.get();
    }

    /** A {@code snowball} filter's stem filter; an unknown language fails now, not on first use. */
    static Function<TokenStream, TokenStream> snowballFilter(String language) {
        snowball(language);
        return in -> new SnowballFilter(in, snowball(language));
    }
}
