"""The transport-neutral HTTP layer: request and response values, the route table, wire models,
views, validation, the API and control-plane handlers, and the OpenAPI document. Internal."""
