// DynamoDB Local listening on 127.0.0.1 only. The stock launcher has no option for the listen
// address and binds every interface; this one builds the same server from the same command-line
// options, moves its connectors to the loopback address, then starts it.
//
// Run as a single-file source program (Java 17), with DynamoDB Local on the class path:
//   java -Djava.library.path=<DynamoDBLocal_lib> -cp <DynamoDBLocal.jar> \
//     scripts/LoopbackDynamoDBLocal.java -inMemory -port 8000 -disableTelemetry
//
// It relies on a private field of DynamoDB Local (the Jetty server inside DynamoDBProxyServer);
// if an upgrade renames it, this fails at once with a clear message rather than binding widely.

import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDBLocal {
    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Server server;
        try {
            Field field = DynamoDBProxyServer.class.getDeclaredField("server");
            field.setAccessible(true);
            server = (Server) field.get(proxy);
        } catch (ReflectiveOperationException | ClassCastException e) {
            System.err.println("this DynamoDB Local version is not supported by LoopbackDynamoDBLocal: " + e);
            System.exit(1);
            return;
        }
        Connector[] connectors = server.getConnectors();
        if (connectors.length == 0) {
            System.err.println("DynamoDB Local has no connector to move to 127.0.0.1");
            System.exit(1);
        }
        for (Connector connector : connectors) {
            if (!(connector instanceof ServerConnector)) {
                System.err.println("unexpected connector type: " + connector.getClass().getName());
                System.exit(1);
            }
            ((ServerConnector) connector).setHost("127.0.0.1");
        }
        proxy.start();
        proxy.join();
    }
}
