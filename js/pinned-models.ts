// Fingerprints of the model files shipped with this version, by model id: SHA-256 of each file's
// 128-byte header, which embeds the SHA-256 of the rest (see Model.pin). Written by
// scripts/pin-models.mjs from models/manifest.json; FaceEngine refuses other files unless told otherwise.
export const PINNED_MODELS: Record<string, string> = {
  'faceapi-recognition': 'cfaf883351b2df91b451f2ba2e8f317f63fd5d66e1275075ac27b49fcd48d031',
  'minifasnet-v1se-4.0': 'd8e464120dffb8023eb83ff9316a0279906126c9ccfb756d1c8d5017272f420c',
  'minifasnet-v2-2.7': 'e34b5bfbdb369fbfde954d2ebe7db3971522538b5cb1b0511702ffcd948b118b',
  'yunet-2023mar': '3190bbcb6254556f33f885abfa078fce3d347cb9ffd583854f79d7e683b47e19',
};
