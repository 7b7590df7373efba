package snipshop.analysis;

import java.util.Map;
import java.util.Set;

import org.elasticsearch.script.ScriptContext;
import org.elasticsearch.script.ScriptEngine;
import org.elasticsearch.script.TemplateScript;

/**
 * The {@code mustache} script language of Elasticsearch's lang-mustache module, for template
 * contexts only: stored search templates ({@code PUT _scripts/<id>} with {@code "lang": "mustache"})
 * and their rendering ({@link Mustache}).
 */
final class MustacheEngine implements ScriptEngine {

    static final String NAME = "mustache";

    @Override
    public String getType() {
        return NAME;
    }

    @Override
    public <T> T compile(String name, String code, ScriptContext<T> context, Map<String, String> options) {
        if (!TemplateScript.class.equals(context.instanceClazz)) {
            throw new IllegalArgumentException("mustache templates are for template contexts, not [" + context.name + "]");
        }
        Mustache template = Mustache.compile(code);
        TemplateScript.Factory factory = params -> new TemplateScript(params) {
            @Override
            public String execute() {
                return template.render(getParams());
            }
        };
        return context.factoryClazz.cast(factory);
    }

    @Override
    public Set<ScriptContext<?>> getSupportedContexts() {
        return Set.of(TemplateScript.CONTEXT, TemplateScript.INGEST_CONTEXT);
    }
}
