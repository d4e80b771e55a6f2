// Fingerprints of the model files shipped with this version, by model id: SHA-256 of each file's
// 128-byte header, which embeds the SHA-256 of the rest (see Model.pin). Written by
// scripts/pin-models.mjs from models/manifest.json; FaceEngine refuses other files unless told otherwise.
export const PINNED_MODELS: Record<string, string> = {
  'faceapi-recognition': '845875617e38e030ae7b0e097f72bd3a60c2ad226d766ba5a7f35c37d6ba2360',
  'minifasnet-v1se-4.0': 'cca7d7348a5427b48854e51f4f22521fab8fd586a94f69190787f6b6b3dcfd89',
  'minifasnet-v2-2.7': '34021e1a1f8a02f44b52a6c100b9418bdc413caf2c80502bec182d3aef80b036',
  'yunet-2023mar': '3190bbcb6254556f33f885abfa078fce3d347cb9ffd583854f79d7e683b47e19',
};
