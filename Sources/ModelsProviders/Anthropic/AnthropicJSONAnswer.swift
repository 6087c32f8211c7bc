// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// `response_format` for Anthropic: the answer is asked for as the input of a
/// tool that the model must call, whose input schema is the requested JSON
/// schema (`json_object`: any object). That works with every Claude model and
/// is held to the schema like any tool input. The response translators turn
/// that tool call back into the message's `content` (the JSON text) with
/// finish reason `stop`, so the caller sees what OpenAI would have given.
///
/// With tools of the caller's own, the model must call some tool (`any`): one
/// of the caller's, or the answer tool to answer; a `tool_choice` naming one
/// function still forces that one, and `none` forces the answer.
extension AnthropicRequest {
    struct JSONAnswer: Equatable {
        /// The tool's name, as the response translators look for it.
        let name: String
        /// The tool as Anthropic takes it.
        let tool: JSON
    }

    static let defaultJSONAnswerName = "json_answer"

    /// The answer tool `request`'s `response_format` asks for; nil for none (or `text`).
    /// `api` names the API in messages ("Anthropic", or "Bedrock" when Converse reuses this).
    static func jsonAnswer(_ request: JSON, api: String = "Anthropic") throws(ModelsError) -> JSONAnswer? {
        guard let format = request["response_format"], !format.isNull else { return nil }
        guard format.kind == .object, let type = format["type"]?.string else {
            throw .invalidArgument("request: \"response_format\" must be an object with a \"type\"")
        }
        let userTools = Set((request["tools"]?.array ?? []).compactMap { $0["function"]?["name"]?.string })
        switch type {
        case "text":
            return nil
        case "json_object":
            return try answer(named: defaultJSONAnswerName, schema: ["type": "object"], description: nil, userTools: userTools, api: api)
        case "json_schema":
            guard let spec = format["json_schema"], spec.kind == .object else {
                throw .invalidArgument("request: \"response_format\" of type \"json_schema\" has no \"json_schema\" object")
            }
            var schema: JSON = spec["schema"].flatMap { $0.isNull ? nil : $0 } ?? ["type": "object"]
            guard schema.kind == .object else {
                throw .invalidArgument("request: \"response_format.json_schema.schema\" must be an object, not \(schema.kindName)")
            }
            if schema["type"] == nil { schema.set("type", "object") }
            guard schema["type"]?.string == "object" else {
                throw .invalidArgument("request: \"response_format.json_schema.schema\" must describe an object to be sent to \(api) (its root \"type\" is \"object\")")
            }
            var name = defaultJSONAnswerName
            if let given = spec["name"]?.string, isToolName(given), !userTools.contains(given) { name = given }
            return try answer(named: name, schema: schema, description: spec["description"]?.string, userTools: userTools, api: api)
        default:
            throw .invalidArgument("request: \"response_format\" of type \"\(type)\" cannot be sent to \(api) (only \"text\", \"json_object\" and \"json_schema\")")
        }
    }

    /// Just the answer tool's name, for the response side: nil when the request asks
    /// for no JSON answer (or asks for one that `translate` refused).
    public static func jsonAnswerName(_ request: JSON) -> String? {
        (try? jsonAnswer(request))??.name
    }

    private static func answer(named name: String, schema: JSON, description: String?,
                               userTools: Set<String>, api: String) throws(ModelsError) -> JSONAnswer {
        guard !userTools.contains(name) else {
            throw .invalidArgument("request: a tool is named \"\(name)\", the name of the tool that carries a JSON answer to \(api); rename it or give \"response_format.json_schema\" a \"name\"")
        }
        var text = "Give your complete answer by calling this tool: its input is the answer."
        if let description, !description.isEmpty { text += " The answer: " + description }
        return JSONAnswer(name: name, tool: ["name": .string(name), "description": .string(text), "input_schema": schema])
    }

    /// Anthropic's tool names: 1 to 64 of `[A-Za-z0-9_-]`.
    private static func isToolName(_ s: String) -> Bool {
        (1...64).contains(s.utf8.count) && s.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d || c == 0x5f
        }
    }

    /// The tools and tool choice to send once the answer tool is added.
    static func adding(_ answer: JSONAnswer, tools: JSON?, toolChoice: JSON?) -> (tools: JSON, toolChoice: JSON) {
        var all = tools?.array ?? []
        all.append(answer.tool)
        let forceAnswer: JSON = ["type": "tool", "name": .string(answer.name)]
        guard tools != nil else { return (.array(all), forceAnswer) }
        switch toolChoice?["type"]?.string {
        case "tool"?: return (.array(all), toolChoice!)
        case "none"?: return (.array(all), forceAnswer)
        default:
            var any: JSON = ["type": "any"]
            if let disable = toolChoice?["disable_parallel_tool_use"] { any.set("disable_parallel_tool_use", disable) }
            return (.array(all), any)
        }
    }
}
