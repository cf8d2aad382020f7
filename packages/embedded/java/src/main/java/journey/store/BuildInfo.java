package journey.store;

import de.bwaldvogel.mongo.bson.Document;

/** buildInfo names the store beside the MongoDB version it reports, as FerretDB names itself, so clients can tell. */
final class BuildInfo {

    private BuildInfo() {
    }

    static Document describe(String command, Document response, String description) {
        if (command.equalsIgnoreCase("buildinfo")) {
            response.put("journeyStore", description);
        }
        return response;
    }
}
