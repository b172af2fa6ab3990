package agentruntime.nacos;

import com.alibaba.nacos.NacosServerBasicApplication;
import com.alibaba.nacos.NacosServerWebApplication;
import com.alibaba.nacos.console.NacosConsole;
import com.alibaba.nacos.core.listener.startup.NacosStartUp;
import com.alibaba.nacos.core.listener.startup.NacosStartUpManager;
import com.alibaba.nacos.sys.env.DeploymentType;
import com.alibaba.nacos.sys.env.EnvUtil;
import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Starts a standalone Nacos 3.1 server (core + server web API + console) in one
 * JVM for local tests. Nacos' own distribution ships an equivalent bootstrap
 * module that is not published on Maven Central; this launcher only wires the
 * published application classes together. All configuration comes from
 * ${nacos.home}/conf/application.properties and -D system properties written by
 * scripts/nacos_server.py.
 */
public final class NacosTestLauncher {

    private NacosTestLauncher() {
    }

    public static void main(String[] args) {
        try {
            // Server API, console and core in one JVM ("merged"); the console's
            // in-process handlers are conditional on this property.
            System.setProperty("nacos.deployment.type", "merged");
            EnvUtil.setDeploymentType(DeploymentType.MERGED);

            NacosStartUpManager.start(NacosStartUp.CORE_START_UP_PHASE);
            ConfigurableApplicationContext core = new SpringApplicationBuilder(NacosServerBasicApplication.class)
                    .web(WebApplicationType.NONE).bannerMode(Banner.Mode.OFF).run(args);

            NacosStartUpManager.start(NacosStartUp.WEB_START_UP_PHASE);
            new SpringApplicationBuilder(NacosServerWebApplication.class).parent(core)
                    .bannerMode(Banner.Mode.OFF).run(args);

            NacosStartUpManager.start(NacosStartUp.CONSOLE_START_UP_PHASE);
            new SpringApplicationBuilder(NacosConsole.class).parent(core)
                    .bannerMode(Banner.Mode.OFF).run(args);

            System.out.println("NACOS-TEST-LAUNCHER: all contexts started");
        } catch (Throwable t) {
            // A half-started server is useless for tests: fail loudly and exit.
            System.err.println("NACOS-TEST-LAUNCHER: start-up failed: " + t);
            t.printStackTrace();
            System.exit(1);
        }
    }
}
