package journey.store;

import java.util.stream.StreamSupport;

import org.h2.mvstore.MVMap;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.bson.Document;

/**
 * The library's H2 collection, with finds sorted by `_id` served in order (see IdOrder). The order is held in memory
 * and built from the file's documents when the collection opens.
 */
final class OrderedH2Collection extends H2Collection {

    private final IdOrder<Object> order;

    OrderedH2Collection(MongoDatabase database, String collectionName, CollectionOptions options, MVMap<Object, Document> dataMap,
                        MVMap<String, Object> metaMap, CursorRegistry cursorRegistry) {
        super(database, collectionName, options, dataMap, metaMap, cursorRegistry);
        order = new IdOrder<>(getIdField());
        streamAllDocumentsWithPosition().forEach(stored -> order.added(stored.getDocument(), stored.getPosition()));
    }

    @Override
    protected Object addDocumentInternal(Document document) {
        Object position = super.addDocumentInternal(document);
        order.added(document, position);
        return position;
    }

    @Override
    protected void removeDocument(Object position) {
        order.removed(getDocument(position));
        super.removeDocument(position);
    }

    @Override
    protected QueryResult queryDocuments(Document query, Document orderBy, int numberToSkip, int limit, int batchSize, Document fieldSelector) {
        Iterable<Object> ordered = order.inOrder(query, orderBy, limit, getIndexes());
        if (ordered == null) {
            return super.queryDocuments(query, orderBy, numberToSkip, limit, batchSize, fieldSelector);
        }
        // Already in the find's order: no comparator, so the stream stops once it has the page.
        return matchDocumentsFromStream(query, StreamSupport.stream(ordered.spliterator(), false).map(this::getDocument),
            numberToSkip, limit, batchSize, null, fieldSelector);
    }
}
