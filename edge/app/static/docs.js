// The local API docs: Swagger UI from the vendored bundle over this app's own schema (nothing from a CDN).
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });
