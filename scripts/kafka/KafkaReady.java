// Readiness probe used by scripts/kafka.sh: exits 0 once the broker at <bootstrap> answers a
// metadata request with itself registered AND accepts a (validate-only) topic creation with
// replication factor 1, i.e. once clients can really use it. A broker that merely listens, or
// is still fenced in KRaft, does not count.
//
// Usage: java -cp <kafka classpath>:<dir of this class> KafkaReady <bootstrap> <timeoutSec> <pid>
// Exit codes: 0 ready, 1 timed out, 2 the broker process <pid> is gone.
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Node;

public final class KafkaReady {
  public static void main(String[] args) throws InterruptedException {
    String bootstrap = args[0];
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[1]));
    long pid = Long.parseLong(args[2]);

    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.CLIENT_ID_CONFIG, "clipstream-kafka-ready");
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
    props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");

    String last = "no answer yet";
    try (Admin admin = Admin.create(props)) {
      while (System.nanoTime() < deadline) {
        if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          System.err.println("broker process " + pid + " exited");
          System.exit(2);
        }
        try {
          Collection<Node> nodes = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
          if (nodes.isEmpty()) {
            last = "no broker registered yet";
          } else {
            NewTopic probe = new NewTopic("__clipstream_ready_probe", 1, (short) 1);
            admin
                .createTopics(List.of(probe), new CreateTopicsOptions().validateOnly(true))
                .all()
                .get(5, TimeUnit.SECONDS);
            System.exit(0);
          }
        } catch (ExecutionException e) {
          last = String.valueOf(e.getCause());
        } catch (TimeoutException e) {
          last = "request timed out";
        }
        Thread.sleep(250);
      }
    }
    System.err.println("not ready: " + last);
    System.exit(1);
  }
}
