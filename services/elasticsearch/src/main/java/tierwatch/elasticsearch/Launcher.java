package tierwatch.elasticsearch;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.ClasspathPluginsNode;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.transport.netty4.Netty4Plugin;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Starts a single-node Elasticsearch in this JVM with the HTTP layer (transport-netty4) and a
 * root handler. Arguments are {@code key=value} settings that override the defaults below;
 * {@code path.home} is required. Logs go to stdout. Stops on SIGTERM.
 */
public final class Launcher {

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        Settings.Builder builder = Settings.builder()
            .put("cluster.name", "tierwatch")
            .put("node.name", "tierwatch-es")
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", "9200")
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            // The real-memory breaker trips on small heaps shared with test load; use the
            // accounting breakers only.
            .put("indices.breaker.total.use_real_memory", false)
            // A development node: tests delete indices by wildcard.
            .put("action.destructive_requires_name", false);
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected key=value, got [" + arg + "]");
            }
            builder.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        Settings settings = builder.build();
        if (settings.get("path.home") == null) {
            throw new IllegalArgumentException("path.home=<dir> is required");
        }
        String nodeName = settings.get("node.name");

        LogConfigurator.registerErrorListener();
        LogConfigurator.setNodeName(nodeName);
        LogConfigurator.configureWithoutConfig(settings);
        // configureWithoutConfig installs an empty configuration (errors only, no appender);
        // switch to the bundled console configuration so the node's INFO lines reach stdout.
        LoggerContext loggerContext = (LoggerContext) LogManager.getContext(false);
        loggerContext.setConfigLocation(Launcher.class.getResource("/log4j2.properties").toURI());

        Environment environment = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> nodeName);
        Node node = new ClasspathPluginsNode(environment, List.of(Netty4Plugin.class, RootInfoPlugin.class));

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "tierwatch-es-shutdown"));

        node.start();
        stopped.await();
    }
}
