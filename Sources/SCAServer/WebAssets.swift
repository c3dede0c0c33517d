import Foundation
import HTTPTypes
import Hummingbird
import SCAHTTP

/// The bank app and the challenge component (`Resources/web`), served at `/app/`. The
/// files are read once, at start; names are a closed set, so no path reaches the disk.
enum WebAssets {
    static let files: [String: (bytes: [UInt8], type: String)] = {
        guard let directory = Bundle.module.url(forResource: "web", withExtension: nil),
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
        else { return [:] }
        var files: [String: (bytes: [UInt8], type: String)] = [:]
        for name in names {
            guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else { continue }
            files[name] = (Array(data), contentType(name))
        }
        return files
    }()

    static func contentType(_ name: String) -> String {
        switch (name as NSString).pathExtension {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        default: "application/octet-stream"
        }
    }

    static func add(to router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in
            var headers = HTTPFields()
            headers[.location] = "/app/"
            return Response(status: .found, headers: headers)
        }
        // The router treats `/app` and `/app/` as one route; the page's relative links need
        // the slash, so `/app` is sent there.
        router.get("/app") { request, _ in
            guard request.uri.path.hasSuffix("/") else {
                var headers = HTTPFields()
                headers[.location] = "/app/"
                return Response(status: .movedPermanently, headers: headers)
            }
            return serve("index.html")
        }
        router.get("/app/{file}") { _, context in serve(context.parameters.get("file") ?? "") }
    }

    static func serve(_ name: String) -> Response {
        guard let file = files[name] else { return APIError.notFound("file \(name.prefix(64))").response }
        var headers = HTTPFields()
        headers[.contentType] = file.type
        headers[.cacheControl] = "no-cache"
        // The pages load nothing from elsewhere and are never framed by other sites.
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'self'; base-uri 'none'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}
