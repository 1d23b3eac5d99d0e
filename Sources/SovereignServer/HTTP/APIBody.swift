import Foundation
import HTTPTypes
import Hummingbird
import SovereignFederation

extension API {
    /// Decodes a JSON request body into `T`, refusing malformed JSON, wrong types and fields `T` does not have,
    /// with the path of the field at fault (`forecast[2].at`). A body type states what it expects by throwing
    /// `DecodingError.dataCorrupted` from its `init(from:)`; the message says where and what was found.
    static func strictDecode<T: Codable>(_ type: T.Type, from data: Data) throws -> T {
        let raw: Any
        do {
            raw = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw APIError(.badRequest, "expected a JSON body, found malformed JSON", field: "body")
        }
        let value = try decode(T.self, from: data)
        let known = try JSONSerialization.jsonObject(with: JSONEncoder().encode(value), options: [.fragmentsAllowed])
        if let unknown = unknownField(raw, known: known, path: "") {
            throw APIError(
                .badRequest,
                "expected only the fields of the message, found unknown field \(unknown)",
                field: unknown
            )
        }
        return value
    }

    private static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            let path = fieldPath(context.codingPath + [key])
            throw APIError(.badRequest, "expected field \(path), found none", field: path)
        } catch let DecodingError.typeMismatch(expected, context) {
            let path = fieldPath(context.codingPath)
            throw APIError(.badRequest, "expected \(path) to be \(expected), found another type", field: path)
        } catch let DecodingError.valueNotFound(expected, context) {
            let path = fieldPath(context.codingPath)
            throw APIError(.badRequest, "expected \(path) to be \(expected), found null", field: path)
        } catch let DecodingError.dataCorrupted(context) {
            let path = fieldPath(context.codingPath)
            throw APIError(.badRequest, "\(path): \(context.debugDescription)", field: path)
        } catch let error as FederationError {
            throw APIError(.unprocessableContent, error.message, field: "body")
        }
    }

    /// A coding path as a request field: `forecast[2].at`; the empty path is the body.
    static func fieldPath(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text.isEmpty ? "body" : text
    }

    /// The first field of `raw` that `known` (the decoded value encoded again) lacks; nulls are allowed.
    static func unknownField(_ raw: Any, known: Any, path: String) -> String? {
        if let object = raw as? [String: Any] {
            let reference = known as? [String: Any] ?? [:]
            for key in object.keys.sorted() {
                let field = path.isEmpty ? key : "\(path).\(key)"
                guard let value = object[key], let inner = reference[key] else {
                    if object[key] is NSNull { continue }
                    return field
                }
                if let found = unknownField(value, known: inner, path: field) { return found }
            }
        } else if let array = raw as? [Any], let reference = known as? [Any] {
            for (i, element) in array.enumerated() where i < reference.count {
                if let found = unknownField(element, known: reference[i], path: "\(path)[\(i)]") { return found }
            }
        }
        return nil
    }
}
