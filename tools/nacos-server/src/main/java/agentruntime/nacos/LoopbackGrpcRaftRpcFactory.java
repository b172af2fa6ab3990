package agentruntime.nacos;

import com.alipay.sofa.jraft.rpc.RpcServer;
import com.alipay.sofa.jraft.rpc.impl.GrpcRaftRpcFactory;
import com.alipay.sofa.jraft.rpc.impl.GrpcServer;
import com.alipay.sofa.jraft.util.Endpoint;
import com.alipay.sofa.jraft.util.SPI;
import com.google.protobuf.Message;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.util.MutableHandlerRegistry;

import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.util.Map;

/**
 * JRaft RPC factory whose server listens on one address (default 127.0.0.1)
 * instead of every interface. Nacos runs JRaft (port - 1000) even in
 * standalone mode, and the stock factory offers no bind-address setting.
 * Picked over the stock factory through JRaft's SPI priority.
 */
@SPI(priority = 100)
public class LoopbackGrpcRaftRpcFactory extends GrpcRaftRpcFactory {

    /** System property naming the address to listen on. */
    public static final String BIND_PROPERTY = "agentruntime.nacos.bind";

    @Override
    @SuppressWarnings("unchecked")
    public RpcServer createRpcServer(Endpoint endpoint, ConfigHelper<RpcServer> helper) {
        int port = endpoint.getPort();
        if (port <= 0 || port >= 65535) {
            throw new IllegalArgumentException("raft port out of range: " + port);
        }
        String host = System.getProperty(BIND_PROPERTY, "127.0.0.1");
        MutableHandlerRegistry registry = new MutableHandlerRegistry();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                .fallbackHandlerRegistry(registry)
                .directExecutor()
                .maxInboundMessageSize(Integer.getInteger("jraft.grpc.max_inbound_message_size.bytes", 4 * 1024 * 1024))
                .build();
        Map<String, Message> parsers;
        try {
            Field f = GrpcRaftRpcFactory.class.getDeclaredField("parserClasses");
            f.setAccessible(true);
            parsers = (Map<String, Message>) f.get(this);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("unexpected jraft GrpcRaftRpcFactory layout", e);
        }
        GrpcServer rpcServer = new GrpcServer(server, registry, parsers, getMarshallerRegistry());
        if (helper != null) {
            helper.config(rpcServer);
        }
        return rpcServer;
    }
}
