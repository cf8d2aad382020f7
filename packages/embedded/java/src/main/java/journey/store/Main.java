package journey.store;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.h2.mvstore.MVStore;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/**
 * Starts mongo-java-server on loopback:
 *   --port N                  TCP port on 127.0.0.1
 *   --backend memory|h2       memory: nothing kept (tests); h2: an MVStore file (npm start)
 *   --file PATH               the MVStore file of the h2 backend
 *   --cache-mb N              MVStore page cache (default 256)
 *   --describe TEXT           what buildInfo names the store in its `journeyStore` field (tests and benchmarks print it)
 *   --indexes ours|library    library: the memory backend as released, without our indexes (benchmarks compare them)
 * Prints one line "ready <port>" once it accepts connections; SIGTERM closes the store cleanly.
 */
public final class Main {

    /**
     * What the server reports. The official Node.js driver 7 refuses servers below wire version 9 (MongoDB 4.4), and
     * the library's newest constant reports 8, so we report MongoDB 5.0 with its own wire version (13). The engine
     * sends no command the library lacks at that level: the whole suite runs on it.
     */
    private static final MongoVersion REPORTED_VERSION = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(5, 0, 0);
        }

        @Override
        public int getWireVersion() {
            return 13;
        }
    };

    private Main() {
    }

    public static void main(String[] args) {
        Map<String, String> options = parse(args);
        int port = Integer.parseInt(required(options, "port"));
        String backendName = options.getOrDefault("backend", "memory");
        String description = options.getOrDefault("describe", "journey-store " + backendName);
        MongoBackend backend;
        boolean libraryIndexes = options.getOrDefault("indexes", "ours").equals("library");
        if (backendName.equals("memory") && libraryIndexes) {
            backend = new MemoryBackend() {
                @Override
                public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
                    return BuildInfo.describe(command, super.handleCommand(channel, databaseName, command, query), description);
                }
            };
        } else if (backendName.equals("memory")) {
            backend = new IndexedMemoryBackend(description);
        } else if (backendName.equals("h2")) {
            MVStore store = new MVStore.Builder()
                .fileName(required(options, "file"))
                .cacheSize(Integer.parseInt(options.getOrDefault("cache-mb", "256")))
                // DurableH2Backend writes the file itself: MVStore's background writer would race the library's updates.
                .autoCommitDisabled()
                .open();
            backend = new DurableH2Backend(store, description);
        } else {
            throw new IllegalArgumentException("--backend must be memory or h2, not " + backendName);
        }
        backend.version(REPORTED_VERSION);
        MongoServer server = new MongoServer(backend);
        server.bind("127.0.0.1", port);
        // MongoServer.shutdown closes the backend too; for h2 that commits and closes the file.
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdown, "journey-store-shutdown"));
        System.out.println("ready " + port);
        System.out.flush();
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        return options;
    }

    private static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return value;
    }
}
