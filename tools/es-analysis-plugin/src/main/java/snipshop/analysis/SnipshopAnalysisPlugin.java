package snipshop.analysis;

import java.io.Reader;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.charfilter.HTMLStripCharFilter;
import org.apache.lucene.analysis.core.KeywordTokenizer;
import org.apache.lucene.analysis.core.LetterTokenizer;
import org.apache.lucene.analysis.core.UpperCaseFilter;
import org.apache.lucene.analysis.core.WhitespaceTokenizer;
import org.apache.lucene.analysis.de.GermanAnalyzer;
import org.apache.lucene.analysis.de.GermanNormalizationFilter;
import org.apache.lucene.analysis.de.GermanStemFilter;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.en.KStemFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.apache.lucene.analysis.es.SpanishAnalyzer;
import org.apache.lucene.analysis.fr.FrenchAnalyzer;
import org.apache.lucene.analysis.it.ItalianAnalyzer;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.analysis.miscellaneous.LengthFilter;
import org.apache.lucene.analysis.miscellaneous.PatternKeywordMarkerFilter;
import org.apache.lucene.analysis.miscellaneous.SetKeywordMarkerFilter;
import org.apache.lucene.analysis.miscellaneous.TrimFilter;
import org.apache.lucene.analysis.miscellaneous.TruncateTokenFilter;
import org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter;
import org.apache.lucene.analysis.miscellaneous.WordDelimiterIterator;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenFilter;
import org.apache.lucene.analysis.ngram.NGramTokenFilter;
import org.apache.lucene.analysis.nl.DutchAnalyzer;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.analysis.AbstractCharFilterFactory;
import org.elasticsearch.index.analysis.AbstractIndexAnalyzerProvider;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.index.analysis.CharFilterFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.ScriptPlugin;
import org.elasticsearch.rest.RestHandler;
import org.elasticsearch.script.ScriptContext;
import org.elasticsearch.script.ScriptEngine;
import org.elasticsearch.script.ScriptService;

import static snipshop.analysis.Factories.filter;
import static snipshop.analysis.Factories.normalizingFilter;
import static snipshop.analysis.Factories.ngramTokenizer;

/**
 * The parts of Elasticsearch's analysis-common module snipshop needs, on the Lucene classes the
 * server already ships (lucene-analysis-common is in ES_HOME/lib). Names and parameters follow
 * analysis-common, so index settings written for a full Elasticsearch work unchanged.
 *
 * <p>Analyzers: english, german, french, spanish, italian, dutch (params: stopwords, stopwords_path,
 * stem_exclusion). Token filters: asciifolding, german_normalization, stemmer, snowball, porter_stem,
 * kstem, german_stem, edge_ngram, ngram, keyword_marker, word_delimiter_graph, length, truncate,
 * trim, uppercase. Tokenizers: whitespace, keyword, letter, edge_ngram, ngram. Char filter:
 * html_strip. The server itself provides the standard analyzer/tokenizer and the lowercase, stop
 * and shingle filters.
 *
 * <p>It also stands in for the lang-mustache module, which the minimal distribution lacks too: the
 * {@code mustache} script language for stored search templates and the search template API
 * ({@link MustacheEngine}, {@link SearchTemplateHandler}).
 */
public final class SnipshopAnalysisPlugin extends Plugin implements AnalysisPlugin, ScriptPlugin, ActionPlugin {

    /** Set when the node creates the plugin's components, before any request is served. */
    private volatile ScriptService scriptService;

    @Override
    public java.util.Collection<?> createComponents(PluginServices services) {
        scriptService = services.scriptService();
        return java.util.List.of();
    }

    @Override
    public ScriptEngine getScriptEngine(Settings settings, java.util.Collection<ScriptContext<?>> contexts) {
        return new MustacheEngine();
    }

    @Override
    public java.util.List<RestHandler> getRestHandlers(
        Settings settings,
        org.elasticsearch.common.io.stream.NamedWriteableRegistry namedWriteableRegistry,
        org.elasticsearch.rest.RestController restController,
        org.elasticsearch.common.settings.ClusterSettings clusterSettings,
        org.elasticsearch.common.settings.IndexScopedSettings indexScopedSettings,
        org.elasticsearch.common.settings.SettingsFilter settingsFilter,
        org.elasticsearch.cluster.metadata.IndexNameExpressionResolver indexNameExpressionResolver,
        java.util.function.Supplier<org.elasticsearch.cluster.node.DiscoveryNodes> nodesInCluster,
        java.util.function.Predicate<org.elasticsearch.features.NodeFeature> clusterSupportsFeature
    ) {
        return java.util.List.of(
            new SearchTemplateHandler(() -> scriptService, false),
            new SearchTemplateHandler(() -> scriptService, true)
        );
    }

    @Override
    public Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> getAnalyzers() {
        Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> m = new TreeMap<>();
        m.put("english", (is, env, name, s) -> analyzer(name, s,
            new EnglishAnalyzer(stopWords(env, s, EnglishAnalyzer.getDefaultStopSet()), stemExclusion(s))));
        m.put("german", (is, env, name, s) -> analyzer(name, s,
            new GermanAnalyzer(stopWords(env, s, GermanAnalyzer.getDefaultStopSet()), stemExclusion(s))));
        m.put("french", (is, env, name, s) -> analyzer(name, s,
            new FrenchAnalyzer(stopWords(env, s, FrenchAnalyzer.getDefaultStopSet()), stemExclusion(s))));
        m.put("spanish", (is, env, name, s) -> analyzer(name, s,
            new SpanishAnalyzer(stopWords(env, s, SpanishAnalyzer.getDefaultStopSet()), stemExclusion(s))));
        m.put("italian", (is, env, name, s) -> analyzer(name, s,
            new ItalianAnalyzer(stopWords(env, s, ItalianAnalyzer.getDefaultStopSet()), stemExclusion(s))));
        m.put("dutch", (is, env, name, s) -> analyzer(name, s,
            new DutchAnalyzer(stopWords(env, s, DutchAnalyzer.getDefaultStopSet()), stemExclusion(s))));
        return m;
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        Map<String, AnalysisProvider<TokenFilterFactory>> m = new TreeMap<>();
        m.put("asciifolding", (is, env, name, s) -> {
            boolean preserve = s.getAsBoolean("preserve_original", false);
            return normalizingFilter(name, s, in -> new ASCIIFoldingFilter(in, preserve),
                in -> new ASCIIFoldingFilter(in, false));
        });
        m.put("german_normalization", (is, env, name, s) ->
            normalizingFilter(name, s, GermanNormalizationFilter::new, GermanNormalizationFilter::new));
        m.put("stemmer", (is, env, name, s) -> {
            String language = s.get("language", s.get("name", "porter"));
            return filter(name, s, Stemmers.stemmer(language));
        });
        m.put("snowball", (is, env, name, s) -> {
            String language = s.get("language", "English");
            return filter(name, s, Stemmers.snowballFilter(language));
        });
        m.put("porter_stem", (is, env, name, s) -> filter(name, s, PorterStemFilter::new));
        m.put("kstem", (is, env, name, s) -> filter(name, s, KStemFilter::new));
        m.put("german_stem", (is, env, name, s) -> filter(name, s, GermanStemFilter::new));
        m.put("edge_ngram", (is, env, name, s) -> {
            int min = s.getAsInt("min_gram", 1);
            int max = s.getAsInt("max_gram", 2);
            boolean preserve = s.getAsBoolean("preserve_original", false);
            return filter(name, s, in -> new EdgeNGramTokenFilter(in, min, max, preserve));
        });
        m.put("ngram", (is, env, name, s) -> {
            int min = s.getAsInt("min_gram", 1);
            int max = s.getAsInt("max_gram", 2);
            Factories.checkNgramDiff(is, min, max);
            boolean preserve = s.getAsBoolean("preserve_original", false);
            return filter(name, s, in -> new NGramTokenFilter(in, min, max, preserve));
        });
        m.put("keyword_marker", AnalysisPlugin.requiresAnalysisSettings((is, env, name, s) -> {
            String pattern = s.get("keywords_pattern");
            if (pattern != null) {
                Pattern p = Pattern.compile(pattern);
                return filter(name, s, in -> new PatternKeywordMarkerFilter(in, p));
            }
            CharArraySet words = Analysis.getWordSet(env, s, "keywords");
            if (words == null) {
                throw new IllegalArgumentException("keyword filter requires either `keywords`, `keywords_path`, "
                    + "or `keywords_pattern` to be configured");
            }
            CharArraySet keywords = new CharArraySet(words, s.getAsBoolean("ignore_case", false));
            return filter(name, s, in -> new SetKeywordMarkerFilter(in, keywords));
        }));
        m.put("word_delimiter_graph", (is, env, name, s) -> {
            int flags = Factories.wordDelimiterFlags(s);
            boolean adjustOffsets = s.getAsBoolean("adjust_offsets", true);
            CharArraySet protectedWords = Analysis.getWordSet(env, s, "protected_words");
            return filter(name, s, in -> new WordDelimiterGraphFilter(in, adjustOffsets,
                WordDelimiterIterator.DEFAULT_WORD_DELIM_TABLE, flags, protectedWords));
        });
        m.put("length", (is, env, name, s) -> {
            int min = s.getAsInt("min", 0);
            int max = s.getAsInt("max", Integer.MAX_VALUE);
            return filter(name, s, in -> new LengthFilter(in, min, max));
        });
        m.put("truncate", (is, env, name, s) -> {
            int length = s.getAsInt("length", 10);
            if (length <= 0) {
                throw new IllegalArgumentException("length parameter must be provided");
            }
            return filter(name, s, in -> new TruncateTokenFilter(in, length));
        });
        m.put("trim", (is, env, name, s) -> normalizingFilter(name, s, TrimFilter::new, TrimFilter::new));
        m.put("uppercase", (is, env, name, s) ->
            normalizingFilter(name, s, UpperCaseFilter::new, UpperCaseFilter::new));
        return m;
    }

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        Map<String, AnalysisProvider<TokenizerFactory>> m = new TreeMap<>();
        m.put("whitespace", (is, env, name, s) -> {
            int maxTokenLength = s.getAsInt("max_token_length", 255);
            return TokenizerFactory.newFactory(name, () -> new WhitespaceTokenizer(
                WhitespaceTokenizer.DEFAULT_TOKEN_ATTRIBUTE_FACTORY, maxTokenLength));
        });
        m.put("keyword", (is, env, name, s) -> {
            int bufferSize = s.getAsInt("buffer_size", 256);
            return TokenizerFactory.newFactory(name, () -> new KeywordTokenizer(bufferSize));
        });
        m.put("letter", (is, env, name, s) -> TokenizerFactory.newFactory(name, LetterTokenizer::new));
        m.put("edge_ngram", (is, env, name, s) -> ngramTokenizer(is, name, s, true));
        m.put("ngram", (is, env, name, s) -> ngramTokenizer(is, name, s, false));
        return m;
    }

    @Override
    public Map<String, AnalysisProvider<CharFilterFactory>> getCharFilters() {
        return Map.of("html_strip", (is, env, name, s) -> {
            var escapedTags = Set.copyOf(s.getAsList("escaped_tags"));
            return new AbstractCharFilterFactory(name) {
                @Override
                public Reader create(Reader reader) {
                    return new HTMLStripCharFilter(reader, escapedTags.isEmpty() ? null : escapedTags);
                }
            };
        });
    }

    private static CharArraySet stopWords(Environment env, Settings s, CharArraySet defaults) {
        return Analysis.parseStopWords(env, s, defaults);
    }

    private static CharArraySet stemExclusion(Settings s) {
        return Analysis.parseStemExclusion(s, CharArraySet.EMPTY_SET);
    }

    private static <T extends Analyzer> AnalyzerProvider<T> analyzer(String name, Settings s, T analyzer) {
        return new AbstractIndexAnalyzerProvider<T>(name, s) {
            @Override
            public T get() {
                return analyzer;
            }
        };
    }
}
