package journey.store;

import java.util.List;

import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/** The library's in-memory backend with indexes that serve the engine's filters (see Indexes) and finds in `_id` order (IdOrder). */
final class IndexedMemoryBackend extends MemoryBackend {

    private final String description;

    IndexedMemoryBackend(String description) {
        this.description = description;
    }

    @Override
    public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
        return BuildInfo.describe(command, super.handleCommand(channel, databaseName, command, query), description);
    }

    @Override
    public MemoryDatabase openOrCreateDatabase(String databaseName) {
        return new MemoryDatabase(databaseName, getCursorRegistry()) {
            @Override
            protected MemoryCollection openOrCreateCollection(String collectionName, CollectionOptions options) {
                return new OrderedMemoryCollection(this, collectionName, options, getCursorRegistry());
            }

            @Override
            protected Index<Integer> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
                return Indexes.unique(super.openOrCreateUniqueIndex(collectionName, indexName, keys, sparse), sparse);
            }

            @Override
            protected Index<Integer> openOrCreateSecondaryIndex(String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
                return Indexes.secondary(indexName, keys, sparse);
            }
        };
    }
}
