package org.elasticsearch.node;

import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.ClasspathPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;

import java.util.Collection;
import java.util.List;

/**
 * A node whose plugins are classpath classes. Lives in this package because
 * {@code Node(NodeConstruction)}, {@code NodeConstruction.prepareConstruction} and
 * {@code NodeServiceProvider} are package-private (signatures of 8.19; 8.11-8.17 differ).
 */
public class ClasspathPluginsNode extends Node {

    public ClasspathPluginsNode(Environment environment, Collection<Class<? extends Plugin>> pluginClasses) {
        super(NodeConstruction.prepareConstruction(environment, null, new NodeServiceProvider() {
            @Override
            PluginsService newPluginService(Environment env, PluginsLoader ignored) {
                return new ClasspathPluginsService(env, List.copyOf(pluginClasses));
            }
        }, true));
    }
}
