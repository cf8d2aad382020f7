package journey.store;

import java.util.stream.StreamSupport;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.bson.Document;

/** The library's in-memory collection, with finds sorted by `_id` served in order (see IdOrder). */
final class OrderedMemoryCollection extends MemoryCollection {

    private final IdOrder<Integer> order;

    OrderedMemoryCollection(MongoDatabase database, String collectionName, CollectionOptions options, CursorRegistry cursorRegistry) {
        super(database, collectionName, options, cursorRegistry);
        order = new IdOrder<>(getIdField());
    }

    @Override
    protected Integer addDocumentInternal(Document document) {
        Integer position = super.addDocumentInternal(document);
        order.added(document, position);
        return position;
    }

    @Override
    protected void removeDocument(Integer position) {
        order.removed(getDocument(position));
        super.removeDocument(position);
    }

    @Override
    protected QueryResult queryDocuments(Document query, Document orderBy, int numberToSkip, int limit, int batchSize, Document fieldSelector) {
        Iterable<Integer> ordered = order.inOrder(query, orderBy, limit, getIndexes());
        if (ordered == null) {
            return super.queryDocuments(query, orderBy, numberToSkip, limit, batchSize, fieldSelector);
        }
        // Already in the find's order: no comparator, so the stream stops once it has the page.
        return matchDocumentsFromStream(query, StreamSupport.stream(ordered.spliterator(), false).map(this::getDocument),
            numberToSkip, limit, batchSize, null, fieldSelector);
    }
}
