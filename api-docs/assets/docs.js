// Starts Swagger UI on the API's own document. Everything is same-origin: the document is
// /openapi.json (relative to this page) and its `servers` entry is "/", so "Try it out" calls
// this very API. No validator badge (it would call validator.swagger.io).
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: new URL("openapi.json", document.baseURI).href,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    displayOperationId: true,
    displayRequestDuration: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    filter: true,
    validatorUrl: null,
    withCredentials: false,
  });
});
