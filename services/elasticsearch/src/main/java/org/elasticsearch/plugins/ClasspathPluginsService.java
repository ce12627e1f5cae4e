package org.elasticsearch.plugins;

import org.elasticsearch.Build;
import org.elasticsearch.action.admin.cluster.node.info.PluginsAndModules;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.spi.SPIClassIterator;

import java.lang.reflect.Constructor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A plugins service whose plugins are classes already on the classpath, instead of bundles under
 * {@code modules/} and {@code plugins/}. Mirrors the test framework's MockPluginsService for 8.19;
 * it lives in this package because {@code loadPlugin}, {@code loadExtensions},
 * {@code createExtension} and {@code LoadedPlugin} are package-private.
 */
public class ClasspathPluginsService extends PluginsService {

    private final List<LoadedPlugin> classpathPlugins;

    public ClasspathPluginsService(Environment environment, Collection<Class<? extends Plugin>> pluginClasses) {
        super(
            environment.settings(),
            environment.configDir(),
            PluginsLoader.createPluginsLoader(Set.of(), Set.of(), Map.of(), false)
        );
        Settings settings = environment.settings();
        List<LoadedPlugin> loaded = new ArrayList<>();
        for (Class<? extends Plugin> pluginClass : pluginClasses) {
            Plugin plugin = loadPlugin(pluginClass, settings, environment.configDir());
            PluginDescriptor descriptor = new PluginDescriptor(
                pluginClass.getName(),
                "classpath plugin",
                "NA",
                Build.current().version(),
                Integer.toString(Runtime.version().feature()),
                pluginClass.getName(),
                null,
                List.of(),
                false,
                false,
                false,
                false
            );
            loaded.add(new LoadedPlugin(descriptor, plugin, ClasspathPluginsService.class.getClassLoader()));
        }
        loadExtensions(loaded);
        this.classpathPlugins = List.copyOf(loaded);
    }

    @Override
    protected final List<LoadedPlugin> plugins() {
        return classpathPlugins;
    }

    @Override
    public PluginsAndModules info() {
        return new PluginsAndModules(
            classpathPlugins.stream().map(LoadedPlugin::descriptor).map(PluginRuntimeInfo::new).toList(),
            List.of()
        );
    }

    /**
     * All classpath plugins share one class loader, so the SPI lookup finds every provider once
     * per plugin; keep one instance per provider class, and skip providers whose one-argument
     * constructor expects a different plugin.
     */
    @Override
    public <T> List<? extends T> loadServiceProviders(Class<T> service) {
        Map<Class<?>, T> byClass = new LinkedHashMap<>();
        for (LoadedPlugin loadedPlugin : classpathPlugins) {
            Plugin plugin = loadedPlugin.instance();
            var providers = SPIClassIterator.get(service, plugin.getClass().getClassLoader());
            while (providers.hasNext()) {
                Class<? extends T> providerClass = providers.next();
                if (byClass.containsKey(providerClass) || takesOtherPlugin(providerClass, plugin)) {
                    continue;
                }
                byClass.put(providerClass, createExtension(providerClass, service, plugin));
            }
        }
        return List.copyOf(byClass.values());
    }

    private static boolean takesOtherPlugin(Class<?> providerClass, Plugin plugin) {
        for (Constructor<?> constructor : providerClass.getConstructors()) {
            if (constructor.getParameterCount() == 1 && constructor.getParameterTypes()[0] != plugin.getClass()) {
                return true;
            }
        }
        return false;
    }
}
