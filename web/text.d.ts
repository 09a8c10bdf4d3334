// Stylesheets are bundled as text (esbuild's `text` loader) and adopted
// as constructed stylesheets, which a host page's CSP does not block.
declare module "*.css" {
  const text: string;
  export default text;
}
