import Foundation

/// The OpenAPI 3.1 document of the whole API, `Resources/openapi.yaml`, served at
/// `/openapi.yaml`; tests check it against the routes.
public enum OpenAPIDocument {
    public static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let data = try? Data(contentsOf: url)
        else { return Array("openapi: 3.1.0\ninfo: {title: missing, version: '0'}\npaths: {}\n".utf8) }
        return Array(data)
    }()
}
