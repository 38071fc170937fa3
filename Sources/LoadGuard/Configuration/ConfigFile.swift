import Foundation
public import Yams

/// Reads a YAML file into a `Decodable` value, turning every failure into a
/// ``ConfigurationError`` that names the file, the line and the key.
public enum ConfigFile {
    /// Loads and decodes `path`.
    /// - Returns: the value and the composed YAML node, for later semantic checks that want lines.
    public static func load<T: Decodable>(_ type: T.Type, path: String) throws(ConfigurationError) -> (T, Node) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(file: path, line: nil, key: "", message: "cannot read the file: \(error)")
        }
        return try decode(type, yaml: text, file: path)
    }

    /// Decodes YAML text; `file` is used in error messages only.
    public static func decode<T: Decodable>(
        _ type: T.Type,
        yaml text: String,
        file: String
    ) throws(ConfigurationError) -> (T, Node) {
        let node: Node
        do {
            node = try Yams.compose(yaml: text) ?? Node.mapping(.init([]))
        } catch let error as YamlError {
            throw ConfigurationError(file: file, line: error.line, key: "", message: error.problem)
        } catch {
            throw ConfigurationError(file: file, line: nil, key: "", message: "\(error)")
        }
        do {
            return (try YAMLDecoder().decode(type, from: node), node)
        } catch let error as DecodingError {
            throw configurationError(error, file: file, root: node)
        } catch {
            throw ConfigurationError(file: file, line: nil, key: "", message: "\(error)")
        }
    }

    /// The error for a semantic check that failed at `path` (e.g. a duplicate charger id).
    public static func error(
        at path: [any CodingKey],
        in root: Node,
        file: String,
        _ message: String
    ) -> ConfigurationError {
        ConfigurationError(file: file, line: line(of: path, in: root), key: keyPath(path), message: message)
    }

    static func configurationError(_ error: DecodingError, file: String, root: Node) -> ConfigurationError {
        switch error {
        case .keyNotFound(let key, let context):
            return ConfigurationError(
                file: file,
                line: line(of: context.codingPath, in: root),
                key: keyPath(context.codingPath + [key]),
                message: "required key is missing"
            )
        case .typeMismatch(let type, let context):
            let found = describe(node(at: context.codingPath, in: root))
            return ConfigurationError(
                file: file,
                line: line(of: context.codingPath, in: root),
                key: keyPath(context.codingPath),
                message: "expected \(expectation(for: type)), found \(found)"
            )
        case .valueNotFound(let type, let context):
            return ConfigurationError(
                file: file,
                line: line(of: context.codingPath, in: root),
                key: keyPath(context.codingPath),
                message: "expected \(expectation(for: type)), found nothing"
            )
        case .dataCorrupted(let context):
            var message = context.debugDescription
            if message.hasPrefix("Expected to decode") || message.contains("cannot be decoded") {
                message = "invalid value \(describe(node(at: context.codingPath, in: root))): \(message)"
            }
            return ConfigurationError(
                file: file,
                line: line(of: context.codingPath, in: root),
                key: keyPath(context.codingPath),
                message: message
            )
        @unknown default:
            return ConfigurationError(file: file, line: nil, key: "", message: "\(error)")
        }
    }

    /// `chargers[2].id` for a coding path.
    public static func keyPath(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }

    /// The line of the deepest key of `path` that exists in the document (1-based).
    public static func line(of path: [any CodingKey], in root: Node) -> Int? {
        var current = root
        var line = root.mark?.line
        for key in path {
            switch current {
            case .mapping(let mapping):
                guard let pair = mapping.first(where: { $0.key.string == key.stringValue }) else { return line }
                line = pair.key.mark?.line ?? pair.value.mark?.line ?? line
                current = pair.value
            case .sequence(let sequence):
                guard let index = key.intValue, sequence.indices.contains(index) else { return line }
                current = sequence[index]
                line = current.mark?.line ?? line
            default:
                return line
            }
        }
        return line
    }

    static func node(at path: [any CodingKey], in root: Node) -> Node? {
        var current: Node? = root
        for key in path {
            guard let node = current else { return nil }
            switch node {
            case .mapping(let mapping):
                current = mapping.first(where: { $0.key.string == key.stringValue })?.value
            case .sequence(let sequence):
                current = key.intValue.flatMap { sequence.indices.contains($0) ? sequence[$0] : nil }
            default:
                return nil
            }
        }
        return current
    }

    static func describe(_ node: Node?) -> String {
        switch node {
        case .none: return "nothing"
        case .scalar(let scalar): return "\"\(scalar.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    static func expectation(for type: Any.Type) -> String {
        switch type {
        case is Bool.Type: return "true or false"
        case is Int.Type: return "a whole number"
        case is Double.Type: return "a number"
        case is String.Type: return "a string"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "a list" }
            if name.hasPrefix("Dictionary") || name.hasPrefix("KeyedDecodingContainer") { return "a mapping" }
            return "a value of type \(name)"
        }
    }
}

extension YamlError {
    var line: Int? {
        switch self {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }

    var problem: String {
        switch self {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return "not valid YAML: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, _):
            return "duplicate keys: \(duplicates.joined(separator: ", "))"
        default:
            return "not valid YAML: \(self)"
        }
    }
}
