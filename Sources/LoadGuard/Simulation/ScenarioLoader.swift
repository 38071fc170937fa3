import Allocation
import Foundation
import Yams

/// A scenario that cannot be loaded; the message names the file, line and key, what was expected
/// and what was found.
public struct ScenarioError: Error, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil when the problem has no single place in the file.
    public var line: Int?
    public var column: Int?
    /// The key path, for example `chargers[2].max_current`.
    public var key: String?
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, key: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    public var description: String {
        var place = file
        if let line {
            place += ":\(line)"
            if let column { place += ":\(column)" }
        }
        if let key { return "\(place): \(key): \(message)" }
        return "\(place): \(message)"
    }
}

/// Reads scenario files.
public enum ScenarioLoader {
    /// Loads the scenario at `path`; a building CSV is looked up relative to the scenario's folder.
    public static func load(path: String) throws(ScenarioError) -> Scenario {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ScenarioError(file: path, message: "cannot read the scenario file: \(error.localizedDescription)")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(
            text,
            file: path,
            readFile: { relative throws(ScenarioError) in
                let full = relative.hasPrefix("/") ? relative : folder + "/" + relative
                do {
                    return (full, try String(contentsOfFile: full, encoding: .utf8))
                } catch {
                    throw ScenarioError(
                        file: full,
                        message: "cannot read the building CSV: \(error.localizedDescription)"
                    )
                }
            }
        )
    }

    /// Parses scenario YAML. `file` names it in errors; `readFile` resolves a building CSV path
    /// to (its full path, its text).
    public static func parse(
        _ yaml: String,
        file: String,
        readFile: (String) throws(ScenarioError) -> (String, String) = { path throws(ScenarioError) in
            throw ScenarioError(file: path, message: "building CSV files are not available here")
        }
    ) throws(ScenarioError) -> Scenario {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw ScenarioError(file: file, message: "the file is empty; expected a scenario mapping")
            }
            root = node
        } catch let error as ScenarioError {
            throw error
        } catch let error as YamlError {
            throw yamlError(error, file: file)
        } catch {
            throw ScenarioError(file: file, message: "not valid YAML: \(error)")
        }
        let raw: ScenarioFile
        do {
            raw = try YAMLDecoder().decode(ScenarioFile.self, from: root)
        } catch let error as DecodingError {
            throw decodingError(error, root: root, file: file)
        } catch {
            throw ScenarioError(file: file, message: "\(error)")
        }
        return try raw.scenario(file: file, root: root, readFile: readFile)
    }

    static func yamlError(_ error: YamlError, file: String) -> ScenarioError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return ScenarioError(
                file: file,
                line: mark.line,
                column: mark.column,
                message: "not valid YAML: \(problem)"
            )
        default:
            return ScenarioError(file: file, message: "not valid YAML: \(error)")
        }
    }

    /// Turns a decoding error into a message with the file, line and key of the offending value.
    static func decodingError(_ error: DecodingError, root: Node, file: String) -> ScenarioError {
        let path: [any CodingKey]
        let message: String
        switch error {
        case .typeMismatch(let type, let context):
            path = context.codingPath
            let found = ScenarioLocator.node(at: path, in: root).map(ScenarioLocator.describe) ?? "nothing"
            message = "expected \(ScenarioLocator.name(of: type)), found \(found)"
        case .valueNotFound(let type, let context):
            path = context.codingPath
            message = "expected \(ScenarioLocator.name(of: type)), found no value"
        case .keyNotFound(let key, let context):
            path = context.codingPath
            let place = ScenarioLocator.locate(path, in: root)
            let keyText = ScenarioLocator.keyPath(path + [key])
            return ScenarioError(
                file: file,
                line: place?.line,
                column: place?.column,
                key: keyText,
                message: "missing required key `\(key.stringValue)`"
            )
        case .dataCorrupted(let context):
            path = context.codingPath
            message = context.debugDescription
        @unknown default:
            path = []
            message = "\(error)"
        }
        let place = ScenarioLocator.locate(path, in: root)
        return ScenarioError(
            file: file,
            line: place?.line,
            column: place?.column,
            key: path.isEmpty ? nil : ScenarioLocator.keyPath(path),
            message: message
        )
    }
}

/// Finds nodes and their lines along a coding path.
enum ScenarioLocator {
    static func node(at path: [any CodingKey], in root: Node) -> Node? {
        var node = root
        for key in path {
            guard let next = child(of: node, key: key) else { return nil }
            node = next
        }
        return node
    }

    /// The mark of the deepest node along `path` that exists.
    static func locate(_ path: [any CodingKey], in root: Node) -> Mark? {
        var node = root
        var mark = root.mark
        for key in path {
            guard let next = child(of: node, key: key) else { break }
            node = next
            mark = next.mark ?? mark
        }
        return mark
    }

    static func child(of node: Node, key: any CodingKey) -> Node? {
        switch node {
        case .sequence(let sequence):
            guard let index = key.intValue, sequence.indices.contains(index) else { return nil }
            return sequence[index]
        case .mapping(let mapping):
            return mapping[key.stringValue]
        default:
            return nil
        }
    }

    static func keyPath(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue, key.stringValue.hasPrefix("Index ") || Int(key.stringValue) == index {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return text
    }

    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): "\"\(scalar.string)\""
        case .sequence: "a list"
        case .mapping: "a mapping"
        case .alias: "an alias"
        }
    }

    static func name(of type: Any.Type) -> String {
        if type is Double.Type || type is Int.Type { return "a number" }
        if type is String.Type { return "text" }
        if type is Bool.Type { return "true or false" }
        let text = String(describing: type)
        if text.hasPrefix("Array") { return "a list" }
        if text.hasPrefix("Dictionary") { return "a mapping" }
        return "a value of type \(text)"
    }
}
