import Foundation

/// The OpenAPI 3.1 description of the REST API (`Resources/openapi.json`), served at
/// `/api/v1/openapi.json`.
enum OpenAPIDocument {
    static let json: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else {
            return #"{"openapi":"3.1.0","info":{"title":"LoadGuard API","version":"unknown"},"paths":{}}"#
        }
        return text
    }()
}
