// SHA-256 of every model file shipped with this version (whole file), by model id. Written by
// scripts/pin-models.mjs from models/manifest.json; FaceEngine refuses other files unless told otherwise.
export const PINNED_MODELS: Record<string, string> = {
  'faceapi-recognition': '96a55250d2f329e5bf0a5e7c181a98c71833869212fb5c7ba3e2231a57cbf3ce',
  'minifasnet-v1se-4.0': 'd46cfad04d41279940e620e817f352bb3f66cfbf4e6239fbdf71deaba532cd5a',
  'minifasnet-v2-2.7': 'cd2fbd01a22a19b0196b5bcc618747472a3ecba03265bef5486ce052154cad79',
  'yunet-2023mar': '7016714dcf13ca5532bd881c207abea3f27d19fd431290a64941e86056f05ee1',
};
