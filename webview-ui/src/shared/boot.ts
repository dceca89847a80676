// Imported first by every view. Lit adopts its styles as constructable stylesheets; where
// a browser cannot, it writes <style> elements, which the CSP allows only with the page's
// nonce: hand Lit that nonce before any element is defined.
const nonce = document.querySelector<HTMLScriptElement>('script[nonce]')?.nonce;
if (nonce) (window as unknown as { litNonce?: string }).litNonce = nonce;
export {};
